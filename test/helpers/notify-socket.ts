import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { exitOf } from './processes.js';

/**
 * An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET (node cannot bind one): a
 * python3 process prints each datagram received as one JSON string per line. Any file descriptors
 * passed (systemd-notify's BARRIER) are dropped by the kernel, which releases the sender.
 */
export class NotifySocket {
  readonly messages: Array<{ at: number; text: string }> = [];
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly path: string) {
    const py = [
      'import socket, sys, json',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      's.bind(sys.argv[1])',
      'print(json.dumps("BOUND"), flush=True)',
      'while True:',
      '    print(json.dumps(s.recv(65536).decode()), flush=True)',
    ].join('\n');
    this.child = spawn('python3', ['-c', py, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.messages.push({ at: Date.now(), text: JSON.parse(line) as string });
      for (const l of [...this.listeners]) l();
    });
  }

  static async open(path: string): Promise<NotifySocket> {
    const s = new NotifySocket(path);
    await s.waitFor((m) => m === 'BOUND', 5000);
    if (!existsSync(path)) throw new Error('notify socket not created');
    return s;
  }

  /** Resolves with the first message (in arrival order) matching, waiting up to timeoutMs. */
  waitFor(pred: (text: string) => boolean, timeoutMs: number): Promise<{ at: number; text: string }> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this.messages.find((x) => pred(x.text));
        if (!m) return false;
        this.listeners.delete(onMsg);
        clearTimeout(timer);
        resolve(m);
        return true;
      };
      const onMsg = (): void => void check();
      const timer = setTimeout(() => {
        this.listeners.delete(onMsg);
        reject(new Error(`no matching notify message within ${timeoutMs}ms; got ${JSON.stringify(this.messages.map((x) => x.text))}`));
      }, timeoutMs);
      this.listeners.add(onMsg);
      check();
    });
  }

  /** Ends the listener and waits for its exit, so that no python3 outlives the test. */
  async close(): Promise<void> {
    this.child.kill('SIGKILL');
    await exitOf(this.child, 5000);
  }
}
