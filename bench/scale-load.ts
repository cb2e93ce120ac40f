/**
 * Load generator for bench:scale: heartbeats of N hosts at 1 Hz each, spread evenly over the second,
 * sent to one monitor on loopback. Prints how many datagrams it sent when it stops.
 *   node dist/bench/scale-load.js PORT MASTER_KEYFILE HOSTS SECONDS
 * Each host seals with its own key, derived from the master beacon key as the monitor derives it.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { encodeBeacon } from '../src/wire/codec.js';
import { deriveHostKey } from '../src/wire/keys.js';

const [port, masterFile, hostsArg, secondsArg] = process.argv.slice(2);
const master = Buffer.from(readFileSync(masterFile!, 'utf8').replace(/\n$/, ''), 'utf8');
const hosts = Number(hostsArg);
const keys = Array.from({ length: hosts }, (_, i) => deriveHostKey(master, `load-${i}`));
const seconds = Number(secondsArg);
const sock = createSocket('udp4');
const bootIds = Array.from({ length: hosts }, () => randomBytes(16).toString('hex'));
const slices = 100; // one batch every 10 ms
let sent = 0;
let errors = 0;
let seq = 0;
let slice = 0;
const start = Date.now();

function batch(): void {
  const from = Math.floor((slice * hosts) / slices);
  const to = Math.floor(((slice + 1) * hosts) / slices);
  const now = Date.now();
  for (let i = from; i < to; i++) {
    const buf = encodeBeacon(
      { host: `load-${i}`, bootId: bootIds[i]!, seq: seq + 1, sentAtMs: now, intervalMs: 1000, novaCompute: 'up' },
      keys[i]!,
    );
    sock.send(buf, Number(port), '127.0.0.1', (err) => (err ? errors++ : sent++));
  }
  slice++;
  if (slice === slices) {
    slice = 0;
    seq++;
  }
  if (Date.now() - start >= seconds * 1000) {
    setTimeout(() => {
      process.stdout.write(JSON.stringify({ sent, errors }) + '\n');
      sock.close();
    }, 200);
    return;
  }
  // Schedule against the start time so timer lateness does not lower the rate.
  const due = start + ((seq * slices + slice) * 1000) / slices;
  setTimeout(batch, Math.max(0, due - Date.now()));
}
batch();
