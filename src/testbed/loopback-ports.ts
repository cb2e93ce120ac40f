/**
 * Loopback port numbers for test-bed daemons that are told a port and bind it later (a monitor's
 * UDP listener, a status API, ipmi_sim, a RabbitMQ node). Such a number must not come from the
 * kernel's ephemeral range: in between, any outgoing connection on the machine may be handed it.
 * So they come from 20000–26999, below the usual ephemeral range (32768–60999) and below the demo's
 * own clusters (27000 and up). Each process starts at its own offset, so that suites running side by
 * side on one machine spread out; a process never hands a port out twice before wrapping around;
 * and every port is checked free, by binding it, before it is handed out.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { threadId } from 'node:worker_threads';

export type PortKind = 'udp' | 'tcp';

const FIRST = 20_000;
const END = ephemeralStart(27_000);
let cursor = FIRST + ((process.pid * 7919 + threadId * 104_729) % (END - FIRST));

/** `wanted`, or less when this machine's ephemeral range starts lower (it must stay out of it). */
function ephemeralStart(wanted: number): number {
  let low = wanted;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    // not Linux: keep the default
  }
  const end = Math.min(wanted, low);
  if (end - FIRST < 1000) throw new Error(`the ephemeral port range starts at ${low}: no room below it for test ports from ${FIRST}`);
  return end;
}

/** The next `span` consecutive numbers of this process's sequence (wrapping at the end of the range). */
function take(span: number): number {
  if (cursor + span > END) cursor = FIRST;
  const port = cursor;
  cursor += span;
  return port;
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
export function bindable(kind: PortKind, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => {
        try {
          s.close();
        } catch {
          // never bound: nothing to close
        }
        resolve(false);
      });
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    } else {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    }
  });
}

/**
 * A base port such that `base + offset` is free for each of `needs`, from a block of `span`
 * numbers that this process hands out to nobody else.
 */
export async function freePortBlock(span: number, needs: ReadonlyArray<{ offset: number; kind: PortKind }>): Promise<number> {
  for (let tries = Math.ceil((END - FIRST) / span); tries > 0; tries--) {
    const base = take(span);
    let free = true;
    for (const n of needs) {
      if (!(await bindable(n.kind, base + n.offset))) {
        free = false;
        break;
      }
    }
    if (free) return base;
  }
  throw new Error(`no free block of ${span} ports in ${FIRST}..${END - 1}`);
}

/** One free port. */
export function freePort(kind: PortKind): Promise<number> {
  return freePortBlock(1, [{ offset: 0, kind }]);
}
