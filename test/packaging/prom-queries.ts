import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/build.js';

/** The PromQL the alert rules and the Grafana dashboard run, read from the shipped files. */
export const RULES_FILE = join(ROOT, 'packaging/prometheus/instance-ha.rules.yml');
export const RULES_TEST_FILE = join(ROOT, 'packaging/prometheus/instance-ha.rules.test.yml');
export const DASHBOARD_FILE = join(ROOT, 'packaging/grafana/instance-ha.json');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return doc.groups.flatMap((g) => g.rules);
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string }> };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Grafana's variables replaced by what Prometheus would get, so the query parses as PromQL. */
export function concreteExpr(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', 'instance-ha');
}

export function dashboardExprs(): string[] {
  return dashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

/** Each metric a query selects, with its equality matchers (`{state="fence_failed"}` → state: fence_failed). */
export function selectors(expr: string): Array<{ metric: string; equals: Record<string, string> }> {
  const out: Array<{ metric: string; equals: Record<string, string> }> = [];
  for (const m of expr.matchAll(/\b(instance_ha_[a-z0-9_]+|up)\b(\{([^}]*)\})?/g)) {
    const equals: Record<string, string> = {};
    for (const eq of (m[3] ?? '').matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) equals[eq[1]!] = eq[2]!;
    out.push({ metric: m[1]!, equals });
  }
  return out;
}
