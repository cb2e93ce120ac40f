import type { ClusterEvent } from '../core/events.js';
import type { EventSink } from '../core/ports.js';
import type { Logger } from '../log.js';

/**
 * Every event of a monitor passes here once: the core's decisions and the recoverer's per-instance
 * steps. Created first in the composition root; notifications, history, metrics and the monitor's
 * own recent-events list subscribe before anything publishes. A sink that throws is contained and
 * counted (its failure is an alarm in status), and the other sinks still get the event.
 */
export class EventBus implements EventSink {
  private readonly sinks: Array<{ name: string; sink: EventSink }> = [];
  private readonly failures = new Map<string, { count: number; lastError: string }>();

  constructor(private readonly log: Logger) {}

  subscribe(name: string, sink: EventSink): void {
    this.sinks.push({ name, sink });
  }

  publish(event: ClusterEvent): void {
    for (const { name, sink } of this.sinks) {
      try {
        sink.publish(event);
      } catch (err) {
        const f = this.failures.get(name) ?? { count: 0, lastError: '' };
        f.count++;
        f.lastError = err instanceof Error ? err.message : String(err);
        this.failures.set(name, f);
        // Powers of two: a sink failing on every event must not flood the log.
        if ((f.count & (f.count - 1)) === 0) this.log.error({ err, sink: name, event: event.type, count: f.count }, 'event sink failed');
      }
    }
  }

  /** Sinks that have failed at least once since start, for status alarms. */
  sinkFailures(): Array<{ sink: string; count: number; lastError: string }> {
    return [...this.failures].map(([sink, f]) => ({ sink, ...f }));
  }
}
