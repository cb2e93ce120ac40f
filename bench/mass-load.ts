/**
 * Load generator for bench:mass: heartbeats of N hosts at 1 Hz each, spread evenly over the second,
 * each sent to every monitor on loopback (as a beacon does). Commands on stdin, one a line:
 *   silence K   the first K hosts stop for good; answers {"silencedAt": <ms>} once none of them sends any more
 *   stop        prints {"sent": n, "errors": n} and exits
 *   node dist/bench/mass-load.js PORT,PORT,… MASTER_KEYFILE HOSTS
 * Each host seals with its own key, derived from the master beacon key as the monitors derive it.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { encodeBeacon } from '../src/wire/codec.js';
import { deriveHostKey } from '../src/wire/keys.js';

const [portsArg, masterFile, hostsArg] = process.argv.slice(2);
const ports = portsArg!.split(',').map(Number);
const master = Buffer.from(readFileSync(masterFile!, 'utf8').replace(/\n$/, ''), 'utf8');
const hosts = Number(hostsArg);
const keys = Array.from({ length: hosts }, (_, i) => deriveHostKey(master, `load-${i}`));
const sock = createSocket('udp4');
const bootIds = Array.from({ length: hosts }, () => randomBytes(16).toString('hex'));
const slices = 100; // one batch every 10 ms
let silent = 0;
let sent = 0;
let errors = 0;
let seq = 0;
let slice = 0;
let stopped = false;
const start = Date.now();

function batch(): void {
  if (stopped) return;
  const from = Math.max(silent, Math.floor((slice * hosts) / slices));
  const to = Math.floor(((slice + 1) * hosts) / slices);
  const now = Date.now();
  for (let i = from; i < to; i++) {
    const buf = encodeBeacon(
      { host: `load-${i}`, bootId: bootIds[i]!, seq: seq + 1, sentAtMs: now, intervalMs: 1000, novaCompute: 'up' },
      keys[i]!,
    );
    for (const port of ports) sock.send(buf, port, '127.0.0.1', (err) => (err ? errors++ : sent++));
  }
  slice++;
  if (slice === slices) {
    slice = 0;
    seq++;
  }
  // Scheduled against the start time so timer lateness does not lower the rate.
  const due = start + ((seq * slices + slice) * 1000) / slices;
  setTimeout(batch, Math.max(0, due - Date.now()));
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, n] = line.trim().split(/\s+/);
  if (cmd === 'silence') {
    // Takes effect before the next batch: from now on none of the first K hosts sends.
    silent = Math.min(hosts, Number(n));
    process.stdout.write(JSON.stringify({ silencedAt: Date.now() }) + '\n');
  } else if (cmd === 'stop') {
    stopped = true;
    setTimeout(() => {
      process.stdout.write(JSON.stringify({ sent, errors }) + '\n');
      sock.close();
      process.exit(0);
    }, 200);
  }
});
batch();
