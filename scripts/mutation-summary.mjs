#!/usr/bin/env node
/**
 * Reads Stryker's JSON report (mutation-testing-report-schema) and prints one line:
 *   mutation score=<n> killed=<n> survived=<n> timeout=<n>
 * The score is Stryker's: detected / (detected + undetected) in percent, where detected is killed
 * plus timed out and undetected is survived plus not covered by any test; `survived` here counts
 * both, so that the numbers on the line add up to the score. Compile and runtime errors and ignored
 * mutants count in neither, as in Stryker.
 */
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'reports/mutation/mutation.json';
const report = JSON.parse(readFileSync(path, 'utf8'));
const count = { Killed: 0, Survived: 0, Timeout: 0, NoCoverage: 0 };
for (const file of Object.values(report.files)) {
  for (const m of file.mutants) if (m.status in count) count[m.status]++;
}
const detected = count.Killed + count.Timeout;
const undetected = count.Survived + count.NoCoverage;
const total = detected + undetected;
const score = total === 0 ? 100 : Math.floor((detected / total) * 10_000) / 100;
console.log(`mutation score=${score} killed=${count.Killed} survived=${undetected} timeout=${count.Timeout}`);
