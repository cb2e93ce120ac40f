import type { Logger } from '../log.js';
import { SystemdNotifier } from '../systemd/notify.js';

export interface LifecycleOptions {
  log: Logger;
  notifier: SystemdNotifier;
  /** Work still running that should end on its own (an in-flight fence); polled during the grace. */
  busy?: () => number;
  /** How long SIGTERM waits for `busy()` to reach 0 before stopping anyway (handing off). */
  graceMs?: number;
  /** Closes everything; after it the process has no handles left and exits. */
  stop: () => void | Promise<void>;
  /** What SIGHUP re-reads, if anything (the beacon: its key, for a key rollover without a gap). */
  reload?: () => void;
}

/**
 * Runs a daemon until SIGTERM/SIGINT, then leaves cleanly and resolves 0:
 *   1. tells systemd STOPPING=1,
 *   2. lets in-flight work (a fence being verified) finish for up to `graceMs` — a fence cut short
 *      is not lost, the decision `fencing` is shared and the next coordinator carries it to its end,
 *      but finishing it here is quicker than a successor starting over,
 *   3. stops (sockets closed, state persisted).
 * A second signal during the grace stops at once. SIGHUP is logged: see docs/operations.md for what
 * needs a restart.
 */
export function runUntilSignal(o: LifecycleOptions): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const finish = async (): Promise<void> => {
      o.notifier.stop();
      await o.stop();
      process.off('SIGHUP', onHup);
      resolve(0);
    };
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) {
        o.log.warn({ signal: sig }, 'second signal: stopping now');
        void finish();
        return;
      }
      stopping = true;
      o.log.info({ signal: sig }, 'stopping');
      void (async () => {
        await o.notifier.stopping();
        const deadline = Date.now() + (o.graceMs ?? 10_000);
        let logged = false;
        while ((o.busy?.() ?? 0) > 0 && Date.now() < deadline) {
          if (!logged) o.log.info({ inflight: o.busy?.() }, 'waiting for in-flight work before stopping');
          logged = true;
          await new Promise((r) => setTimeout(r, 50));
        }
        if ((o.busy?.() ?? 0) > 0) o.log.warn({ inflight: o.busy?.() }, 'grace over: in-flight work handed off to the next coordinator');
        await finish();
      })();
    };
    const onHup = (): void => {
      if (o.reload) return o.reload();
      o.log.warn('SIGHUP: configuration is read at start only; restart the service to apply changes (see docs/operations.md)');
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', onHup);
  });
}
