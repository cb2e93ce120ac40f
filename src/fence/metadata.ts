/**
 * Reads a fence agent's `metadata` XML (ClusterLabs resource-agent format) and validates configured
 * options against it, so a typo in an option name is reported at config-check time rather than
 * when a host has failed. Only the subset of the format agents emit is parsed.
 */
export interface AgentParameter {
  name: string;
  required: boolean;
  deprecated: boolean;
  /** The older name this one replaces (either satisfies a requirement). */
  obsoletes?: string;
  type: string;
  default?: string;
  choices: string[];
}

export interface AgentMetadata {
  name: string;
  parameters: Map<string, AgentParameter>;
  actions: Set<string>;
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}="([^"]*)"`).exec(tag);
  return m ? unescapeXml(m[1]!) : undefined;
}

function unescapeXml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function parseAgentMetadata(xml: string): AgentMetadata {
  const head = /<resource-agent\b[^>]*>/.exec(xml);
  if (!head) throw new Error('not fence-agent metadata: no <resource-agent> element');
  const parameters = new Map<string, AgentParameter>();
  for (const m of xml.matchAll(/<parameter\b([^>]*)>([\s\S]*?)<\/parameter>/g)) {
    const tag = m[1]!;
    const body = m[2]!;
    const name = attr(tag, 'name');
    if (!name) continue;
    const content = /<content\b([^>]*)>/.exec(body)?.[1] ?? '';
    parameters.set(name, {
      name,
      required: attr(tag, 'required') === '1',
      deprecated: attr(tag, 'deprecated') === '1',
      obsoletes: attr(tag, 'obsoletes'),
      type: attr(content, 'type') ?? 'string',
      default: attr(content, 'default'),
      choices: [...body.matchAll(/<option\s+value="([^"]*)"/g)].map((o) => unescapeXml(o[1]!)),
    });
  }
  const actions = new Set([...xml.matchAll(/<action\s+name="([^"]+)"/g)].map((a) => a[1]!));
  return { name: attr(head[0], 'name') ?? '', parameters, actions };
}

/** Problems of `options` (names as on stdin) against the agent's metadata; empty when fine. */
export function checkOptions(meta: AgentMetadata, options: Readonly<Record<string, string>>, opts: { hasPassword: boolean }): string[] {
  const problems: string[] = [];
  const given = new Set(Object.keys(options));
  if (opts.hasPassword) given.add('password');
  for (const name of given) {
    const p = meta.parameters.get(name) ?? meta.parameters.get(name.replace(/-/g, '_'));
    if (!p) {
      problems.push(`option '${name}' is not a parameter of ${meta.name || 'the agent'}`);
      continue;
    }
    const v = options[name];
    if (v === undefined) continue;
    if (p.choices.length > 0 && !p.choices.includes(v.toLowerCase()))
      problems.push(`option '${name}' must be one of ${p.choices.join(', ')}, got '${v}'`);
    if (p.type === 'integer' && !/^-?\d+$/.test(v)) problems.push(`option '${name}' must be a whole number, got '${v}'`);
    if (p.type === 'second' && !/^\d+(\.\d+)?$/.test(v)) problems.push(`option '${name}' must be a number of seconds, got '${v}'`);
  }
  for (const p of meta.parameters.values()) {
    if (p.required && p.name !== 'action' && !given.has(p.name) && !(p.obsoletes && given.has(p.obsoletes)))
      problems.push(`option '${p.name}' is required by ${meta.name || 'the agent'}`);
  }
  for (const a of ['off', 'status'])
    if (meta.actions.size > 0 && !meta.actions.has(a)) problems.push(`the agent does not support the '${a}' action`);
  return problems;
}
