import { ObjectReader } from '../src/config/reader.js';
import type { ClusterEvent } from '../src/core/events.js';
import { createLogger } from '../src/log.js';
import { readNotificationsConfig } from '../src/notify/config.js';
import { Notifier } from '../src/notify/notifier.js';

/**
 * A standalone publishing process (a monitor's notification path, nothing else) for the SIGKILL
 * test: reads `{config, count, idBase}` from env IHA_NOTIFY_PROC as JSON, publishes `count`
 * instance.failed notifications with ids `00000000-0000-4000-8000-<idBase+i>`, prints
 * `durable <count>` once all are on disk and `confirmed <n>` after every confirmed batch.
 */
const spec = JSON.parse(process.env.IHA_NOTIFY_PROC ?? '{}') as { config: unknown; count: number; idBase: number };
const problems: { path: string; reason: string }[] = [];
const config = readNotificationsConfig(new ObjectReader(spec.config, 'notifications', problems));
if (problems.length) throw new Error(JSON.stringify(problems));
let next = spec.idBase;
const newId = (): string => `00000000-0000-4000-8000-${(++next).toString(16).padStart(12, '0')}`;
const log = createLogger({ level: 'warn', destination: process.stderr });
const notifier = new Notifier({ config, monitorHost: 'proc', log, newId });
await notifier.start();
notifier.onConfirmed(() => process.stdout.write(`confirmed ${notifier.status().confirmed}\n`));
for (let i = 1; i <= spec.count; i++) {
  const e: ClusterEvent = {
    type: 'instance.not_selected',
    at: Date.now(),
    host: 'cmp1',
    reason: 'untagged',
    fence: null,
    server: { id: `srv-${i}`, name: `vm-${i}`, projectId: 'p', userId: 'u', tags: [], host: 'cmp1' },
  };
  notifier.publish(e);
}
await notifier.flushed();
process.stdout.write(`durable ${spec.count}\n`);
