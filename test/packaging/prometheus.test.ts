import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ROOT } from '../helpers/build.js';
import { haveTools } from '../helpers/require.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { RULES_FILE, RULES_TEST_FILE, alertRules, concreteExpr, dashboard, dashboardExprs } from './prom-queries.js';

/**
 * The alert rules under Debian's promtool (`check rules`, and `test rules` on the scripted
 * series of instance-ha.rules.test.yml), each rule's runbook section present in
 * docs/operations.md, and the Grafana dashboard a valid JSON model whose queries parse.
 * Whether the metrics they use exist on a live monitor: metrics-live.test.ts.
 */
const run = promisify(execFile);
const tempDir = tempDirs();
const havePromtool = haveTools('promtool', ['promtool'], 'apt-get install prometheus (it ships promtool), or ./setup.sh');
const operations = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
const headings = new Set([...operations.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1]!.trim()));

describe('alert rules', () => {
  it.runIf(havePromtool)('pass promtool check rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', RULES_FILE]);
    expect(stdout).toContain(`SUCCESS: ${alertRules().length} rules found`);
  });

  it.runIf(havePromtool)('pass their promtool unit tests, which make every alert fire', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', RULES_TEST_FILE], { cwd: join(ROOT, 'packaging/prometheus') });
    expect(stdout).toContain('SUCCESS');
    const tests = readFileSync(RULES_TEST_FILE, 'utf8');
    for (const { alert } of alertRules())
      expect(tests, alert).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });

  it('cover what an operator must act on, each with a severity, a summary and a runbook section that exists', () => {
    const rules = alertRules();
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'InstanceHaClockOffset',
      'InstanceHaClockSkew',
      'InstanceHaCoordinatorFlapping',
      'InstanceHaFenceFailed',
      'InstanceHaGuestCrashLoop',
      'InstanceHaHostLeft',
      'InstanceHaMassFailureHold',
      'InstanceHaMonitorDown',
      'InstanceHaNoCoordinator',
      'InstanceHaNoQuorum',
      'InstanceHaNotificationBrokerUnreachable',
      'InstanceHaNotificationOutboxBacklog',
      'InstanceHaPowerCheckFailed',
      'InstanceHaRecoveryFailed',
      'InstanceHaStateWriteFailing',
    ]);
    for (const r of rules) {
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      const section = /Runbook: docs\/operations\.md, "([^"]+)"/.exec(r.annotations?.description ?? '')?.[1];
      expect(section, `${r.alert} names a runbook section`).toBeTruthy();
      expect(headings.has(section!), `docs/operations.md has a heading "${section}"`).toBe(true);
      // A level (a gauge) waits out a blip with for:; an increase over a window is already a fact.
      if (!/increase\(/.test(r.expr)) expect(r.for, r.alert).toMatch(/^\d+[sm]$/);
    }
  });
});

describe('Grafana dashboard', () => {
  it('is a Grafana JSON model: uid, schema version, a Prometheus datasource variable, laid-out panels with unique ids', () => {
    const d = dashboard();
    expect(d.uid).toBe('instance-ha');
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
    const titles = d.panels.map((p) => p.title);
    for (const t of [
      'Cluster health',
      'Hosts by state',
      'Detection latency',
      'Fence duration by agent and outcome (p90)',
      'Evacuations by outcome',
      'Evacuation duration',
      'Outbox depth',
    ])
      expect(titles).toContain(t);
  });

  it.runIf(havePromtool)('has only queries that parse as PromQL (promtool, as recording rules)', async () => {
    const rules = dashboardExprs().map((expr, i) => ({ record: `dashboard:query_${i}`, expr: concreteExpr(expr) }));
    const file = join(tempDir('iha-dash-'), 'dashboard-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const { stdout } = await run('promtool', ['check', 'rules', file]);
    expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
