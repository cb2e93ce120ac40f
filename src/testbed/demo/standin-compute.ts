import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * Stand-in nova-compute processes for the demo's compute-down scenario: a `sleep` renamed (bash's
 * `exec -a`) so that the beacon's process check (`health.process`) finds exactly it. Stopped and
 * started by the demo; every one it started is killed by pid at the end.
 */
export class StandinComputes {
  private readonly tag = randomBytes(4).toString('hex');
  private readonly children = new Map<string, ChildProcess>();

  constructor(hosts: readonly string[]) {
    for (const h of hosts) this.start(h);
  }

  name(host: string): string {
    return `iha-demo-nova-compute-${this.tag}-${host}`;
  }

  start(host: string): void {
    if (this.children.has(host)) return;
    this.children.set(host, spawn('bash', ['-c', `exec -a ${this.name(host)} sleep 86400`], { stdio: 'ignore' }));
  }

  stop(host: string): void {
    this.children.get(host)?.kill('SIGKILL');
    this.children.delete(host);
  }

  stopAll(): void {
    for (const h of [...this.children.keys()]) this.stop(h);
  }
}
