/**
 * The golden trace file format, after etcd raft's datadriven testdata: each step is one command line,
 * a `----` line, and the output it printed, ended by a blank line. Lines starting with `#` (and blank
 * lines between steps) are commentary and are kept as they are when the outputs are rewritten.
 *
 *   # a host that stops beating is declared by the coordinator
 *   silence h2
 *   ----
 *   ok
 *
 * The file is both the script and its expected output, so a reviewer reads one thing.
 */
export interface GoldenStep {
  /** Commentary lines (and blank lines) before the command, kept verbatim. */
  preamble: string[];
  command: string;
  /** 1-based line of the command in the file, for failure messages. */
  line: number;
  expected: string[];
}

export function parseGolden(text: string): { steps: GoldenStep[]; trailer: string[] } {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const steps: GoldenStep[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === '' || l.startsWith('#')) {
      preamble.push(l);
      i++;
      continue;
    }
    const step: GoldenStep = { preamble, command: l, line: i + 1, expected: [] };
    preamble = [];
    i++;
    if (lines[i] !== '----') throw new Error(`line ${i + 1}: expected '----' after '${l}'`);
    i++;
    while (i < lines.length && lines[i] !== '') step.expected.push(lines[i++]!);
    i++; // the blank line that ends the output
    steps.push(step);
  }
  return { steps, trailer: preamble };
}

export function formatGolden(steps: ReadonlyArray<GoldenStep & { actual: string[] }>, trailer: readonly string[]): string {
  const out: string[] = [];
  for (const s of steps) out.push(...s.preamble, s.command, '----', ...s.actual, '');
  out.push(...trailer);
  while (out.at(-1) === '') out.pop();
  return `${out.join('\n')}\n`;
}
