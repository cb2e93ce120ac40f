import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeClusterFiles } from '../../src/testbed/demo/cluster-files.js';
import { freePortBlock } from '../../src/testbed/loopback-ports.js';
import { ensureBuilt } from '../helpers/build.js';
import { clusterBasePort } from '../helpers/ports.js';
import { CLI, killedAfterEach } from '../helpers/processes.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { alertRules, dashboardExprs, selectors } from './prom-queries.js';

/**
 * A real monitor process (notifications on, towards a broker port nobody listens on, so the
 * notifier's series are there too), scraped on /metrics: every metric the alert rules and the
 * Grafana dashboard query exists, with the label values they select wherever the monitor
 * exports that metric before anything happened (alarm kinds, host states, drop reasons, …).
 */
const track = killedAfterEach();
const tempDir = tempDirs();

/** Metric families from `# TYPE name type`, and each sample's name and labels. */
function parseExposition(text: string): {
  families: Map<string, string>;
  samples: Array<{ name: string; labels: Record<string, string> }>;
} {
  const families = new Map<string, string>();
  const samples: Array<{ name: string; labels: Record<string, string> }> = [];
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) families.set(t[1]!, t[2]!);
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? \S+$/.exec(line);
    if (!s) continue;
    const labels: Record<string, string> = {};
    for (const l of (s[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: s[1]!, labels });
  }
  return { families, samples };
}

/** The family a series name belongs to: a histogram's _bucket, _sum and _count are its own. */
function familyOf(name: string, families: Map<string, string>): string | undefined {
  if (families.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return families.get(base) === 'histogram' ? base : undefined;
}

describe('metrics the alert rules and the dashboard use, on a live monitor', () => {
  it('all exist, with the label values they select', async () => {
    ensureBuilt();
    const dir = tempDir('iha-metrics-live-');
    const basePort = await clusterBasePort(1);
    // A port block nobody else is handed: nothing listens there, so the broker stays unreachable.
    const deadBroker = await freePortBlock(1, [{ offset: 0, kind: 'tcp' }]);
    const layout = writeClusterFiles(join(dir, 'cluster'), {
      monitors: 1,
      hosts: ['cmp1'],
      basePort,
      logLevel: 'warn',
      monitorExtra: () => ({
        notifications: { enabled: true, url: `amqp://guest:guest@127.0.0.1:${deadBroker}/`, outbox: { dir: join(dir, 'outbox') } },
      }),
    });
    const m = layout.monitors[0]!;
    track(spawn(process.execPath, [CLI, 'monitor', '--config', m.config], { stdio: 'ignore' }));
    // A beacon, so that series fed by heartbeats (the clock offset of the senders) are there too.
    track(spawn(process.execPath, [CLI, 'beacon', '--config', layout.hosts[0]!.config], { stdio: 'ignore' }));
    let text = '';
    const ready = (t: string) =>
      t.includes('instance_ha_notification_broker_connected') && t.includes('instance_ha_clock_offset_max_seconds{');
    for (let i = 0; i < 150 && !ready(text); i++) {
      text = await fetch(`http://${m.metrics}/metrics`).then(
        (r) => (r.ok ? r.text() : ''),
        () => '',
      );
      if (!ready(text)) await new Promise((r) => setTimeout(r, 100));
    }
    const { families, samples } = parseExposition(text);
    expect(families.size, 'the monitor answered /metrics').toBeGreaterThan(10);

    const queries = [
      ...alertRules().map((r) => ({ where: `rule ${r.alert}`, expr: r.expr })),
      ...dashboardExprs().map((expr) => ({ where: 'dashboard', expr })),
    ];
    const problems: string[] = [];
    for (const { where, expr } of queries)
      for (const { metric, equals } of selectors(expr)) {
        if (metric === 'up') continue; // Prometheus's own, per scrape target
        const family = familyOf(metric, families);
        if (!family) {
          problems.push(`${where}: ${metric} is not exposed`);
          continue;
        }
        const own = Object.entries(equals).filter(([k]) => k !== 'job' && k !== 'instance'); // added by Prometheus
        const series = samples.filter((s) => s.name === metric);
        // Labelled histograms (fence durations by agent) have no series before the first fence.
        if (own.length === 0 || series.length === 0) continue;
        if (!series.some((s) => own.every(([k, v]) => s.labels[k] === v)))
          problems.push(`${where}: no ${metric} series with ${JSON.stringify(equals)}`);
      }
    expect(problems).toEqual([]);
    // And the conventions: counts are counters named _total, build info is there.
    for (const [name, type] of families) if (type === 'counter') expect(name).toMatch(/_total$/);
    expect(families.get('instance_ha_build_info')).toBe('gauge');
    expect(samples.find((s) => s.name === 'instance_ha_notification_broker_connected')).toBeDefined();
    // The beacon runs on this machine's clock: its offset is the loopback delay, far below a second.
    const offset = /^instance_ha_clock_offset_max_seconds\{sender="cmp1"\} (\S+)$/m.exec(text);
    expect(offset, 'the beacon cmp1 is the sender furthest off').not.toBeNull();
    expect(Math.abs(Number(offset![1]))).toBeLessThan(1);
  });
});
