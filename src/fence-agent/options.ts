/**
 * One option table drives an agent's usage text, its `metadata` XML and the validation of its
 * input (the role of fence-agents' `all_opt`), so every agent in agents/ reads options the same
 * way: `name=value` lines on stdin, or getopt-style argv (`--ip=X`, `--ip X`, `-a X`, `-o off`).
 */

import { timerMs } from '../timer-limit.js';

/** Longest seconds option (power_timeout, shell_timeout, delay, ...): one hour, far above any BMC's need. */
export const MAX_OPTION_SECONDS = 3600;

export type OptionType = 'string' | 'integer' | 'second' | 'boolean' | 'select';

export interface AgentOption {
  /** stdin / metadata name, with underscores. */
  name: string;
  type: OptionType;
  shortdesc: string;
  /** getopt letter, e.g. 'a' for -a. */
  short?: string;
  /** argv name; default: name with '-' for '_'. */
  long?: string;
  /** Value placeholder in usage/metadata, e.g. '[ip]'. */
  valueHint?: string;
  default?: string;
  choices?: readonly string[];
  required?: boolean;
  /** Never printed (usage shows [set], logs show nothing). */
  secret?: boolean;
  /** Older names accepted on stdin and argv (metadata marks them deprecated). */
  aliases?: readonly string[];
  /** Accepted for compatibility with fence_ipmilan but without effect here. */
  ignored?: boolean;
}

export type ParsedOptions = Map<string, string>;

const TRUE_WORDS = ['1', 'yes', 'on', 'true'];

export function isTrue(v: string | undefined): boolean {
  return v !== undefined && TRUE_WORDS.includes(v.toLowerCase());
}

export class OptionError extends Error {
  override name = 'OptionError';
}

function lookup(table: readonly AgentOption[], key: string): AgentOption | undefined {
  const k = key.replace(/-/g, '_');
  return table.find((o) => o.name === k || o.aliases?.includes(k) || (o.long ?? '').replace(/-/g, '_') === k);
}

/**
 * stdin form: `name=value` per line, `#` comments, `-` and `_` alike; unknown names are warned
 * about and skipped (like fence-agents), so Pacemaker's extra keys (nodename, …) do no harm.
 */
export function parseStdin(text: string, table: readonly AgentOption[], warn: (msg: string) => void): ParsedOptions {
  const out: ParsedOptions = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq).trim();
    const value = eq < 0 ? '' : line.slice(eq + 1).trim();
    const opt = lookup(table, key);
    if (!opt) {
      warn(`Parse error: Ignoring unknown option '${key}'`);
      continue;
    }
    out.set(opt.name, opt.type === 'boolean' ? (eq < 0 || isTrue(value) ? '1' : '0') : value);
  }
  return out;
}

/** argv form. Throws OptionError on an unknown option or a missing value. */
export function parseArgv(argv: readonly string[], table: readonly AgentOption[]): ParsedOptions {
  const out: ParsedOptions = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let opt: AgentOption | undefined;
    let value: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      opt = lookup(table, eq < 0 ? arg.slice(2) : arg.slice(2, eq));
      if (eq >= 0) value = arg.slice(eq + 1);
    } else if (arg.startsWith('-') && arg.length >= 2) {
      opt = table.find((o) => o.short === arg[1]);
      if (arg.length > 2) value = arg.slice(2);
    }
    if (!opt) throw new OptionError(`unknown option '${arg}'`);
    if (opt.type === 'boolean') {
      out.set(opt.name, value === undefined || isTrue(value) ? '1' : '0');
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new OptionError(`option '${arg}' needs a value`);
    }
    out.set(opt.name, value);
  }
  return out;
}

/** Applies defaults and checks types, choices and required options; returns every problem. */
export function validate(
  opts: ParsedOptions,
  table: readonly AgentOption[],
  requiredFor: (o: AgentOption) => boolean = (o) => o.required === true,
): string[] {
  const problems: string[] = [];
  for (const o of table) {
    if (!opts.has(o.name) && o.default !== undefined) opts.set(o.name, o.default);
    const v = opts.get(o.name);
    if (v === undefined) {
      if (requiredFor(o)) problems.push(`Failed: You have to set ${o.name}`);
      continue;
    }
    if (o.type === 'integer' && !/^\d+$/.test(v)) problems.push(`Failed: ${o.name} must be a whole number, got '${v}'`);
    if (o.type === 'second' && !/^\d+(\.\d+)?$/.test(v)) problems.push(`Failed: ${o.name} must be a number of seconds, got '${v}'`);
    else if (o.type === 'second' && Number(v) > MAX_OPTION_SECONDS)
      problems.push(`Failed: ${o.name} must be at most ${MAX_OPTION_SECONDS} seconds, got '${v}'`);
    if (o.type === 'select' && o.choices && !o.choices.includes(v.toLowerCase()))
      problems.push(`Failed: ${o.name} must be one of ${o.choices.join(', ')}, got '${v}'`);
  }
  return problems;
}

/** A seconds option in ms, capped where a timer can still honour it (see timer-limit.ts). */
export function secondsMs(opts: ParsedOptions, name: string): number {
  return timerMs(Math.round(Number(opts.get(name) ?? '0') * 1000));
}

function getoptMixed(o: AgentOption): string {
  const long = `--${o.long ?? o.name.replace(/_/g, '-')}${o.type === 'boolean' ? '' : `=${o.valueHint ?? `[${o.name}]`}`}`;
  return o.short ? `-${o.short}, ${long}` : long;
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface AgentDocs {
  name: string;
  shortdesc: string;
  longdesc: string;
  actions: readonly string[];
}

/** ClusterLabs fence-agent metadata (the `resource-agent` XML Pacemaker's stonithd reads). */
export function metadataXml(docs: AgentDocs, table: readonly AgentOption[]): string {
  const lines = [
    '<?xml version="1.0" ?>',
    `<resource-agent name="${xml(docs.name)}" shortdesc="${xml(docs.shortdesc)}" >`,
    `<longdesc>${xml(docs.longdesc)}</longdesc>`,
    '<vendor-url></vendor-url>',
    '<parameters>',
  ];
  const param = (name: string, o: AgentOption, deprecated: boolean): void => {
    const extra = deprecated ? ' deprecated="1"' : o.aliases?.length ? ` obsoletes="${o.aliases[0]}"` : '';
    lines.push(`\t<parameter name="${name}" unique="0" required="${o.required && !deprecated ? 1 : 0}"${extra}>`);
    lines.push(`\t\t<getopt mixed="${xml(getoptMixed(o))}" />`);
    const def = o.default !== undefined ? ` default="${xml(o.default)}"` : '';
    if (o.type === 'select') {
      lines.push(`\t\t<content type="select"${def} >`);
      for (const c of o.choices ?? []) lines.push(`\t\t\t<option value="${xml(c)}" />`);
      lines.push('\t\t</content>');
    } else {
      lines.push(`\t\t<content type="${o.type}"${def} />`);
    }
    lines.push(`\t\t<shortdesc lang="en">${xml(o.shortdesc)}</shortdesc>`);
    lines.push('\t</parameter>');
  };
  for (const o of table) {
    param(o.name, o, false);
    for (const a of o.aliases ?? []) param(a, o, true);
  }
  lines.push('</parameters>', '<actions>');
  for (const a of docs.actions) lines.push(a === 'on' ? '\t<action name="on" automatic="0"/>' : `\t<action name="${a}" />`);
  lines.push('</actions>', '</resource-agent>');
  return lines.join('\n') + '\n';
}

export function usageText(docs: AgentDocs, table: readonly AgentOption[]): string {
  const rows = table.map(
    (o) => `   ${getoptMixed(o).padEnd(42)} ${o.shortdesc}${o.default !== undefined ? ` (default ${o.default})` : ''}`,
  );
  return `Usage:\n\t${docs.name} [options]\nOptions:\n${rows.join('\n')}\n`;
}
