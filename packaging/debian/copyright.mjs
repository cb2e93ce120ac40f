// Writes the package's machine-readable debian/copyright (DEP-5) from the bundled node_modules:
// one paragraph per dependency with its license and the copyright line of its own LICENSE file,
// so the file stays true when a dependency changes. Usage: node copyright.mjs NODE_MODULES > copyright
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const nm = process.argv[2];
if (!nm || !existsSync(nm)) {
  process.stderr.write(`copyright.mjs: node_modules directory '${nm ?? ''}' not found\n`);
  process.exit(64);
}

function packages(dir, prefix = '') {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    if (e.name.startsWith('@')) out.push(...packages(join(dir, e.name), `${e.name}/`));
    else if (existsSync(join(dir, e.name, 'package.json'))) out.push(`${prefix}${e.name}`);
  }
  return out;
}

function copyrightLine(dir) {
  const lic = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
  const line =
    lic &&
    readFileSync(join(dir, lic), 'utf8')
      .split('\n')
      .find((l) => /copyright\s+(\(c\)|©|\d{4})/i.test(l));
  return line ? line.trim().replace(/^copyright\s*(\(c\)|©)?\s*/i, '') : 'the authors named in its package.json';
}

const SPDX_TO_DEBIAN = { 'Apache-2.0': 'Apache-2.0', MIT: 'Expat', ISC: 'ISC' };
const used = new Set(['Apache-2.0']);
let text = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: instance-ha
Source: https://github.com/instance-ha/instance-ha

Files: *
Copyright: the instance-ha authors
License: Apache-2.0
`;
for (const name of packages(nm).sort()) {
  const dir = join(nm, name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const license = SPDX_TO_DEBIAN[pkg.license];
  if (!license) {
    process.stderr.write(`copyright.mjs: ${name}: license '${pkg.license}' has no entry; add its text to copyright.mjs\n`);
    process.exit(1);
  }
  used.add(license);
  text += `\nFiles: usr/lib/instance-ha/node_modules/${name}/*\nCopyright: ${copyrightLine(dir)}\nLicense: ${license}\nComment: ${name} ${pkg.version}\n`;
}

const TEXTS = {
  'Apache-2.0': ` On Debian systems, the complete text of the Apache License, Version 2.0
 can be found in "/usr/share/common-licenses/Apache-2.0".`,
  Expat: ` Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
 THE SOFTWARE.`,
  ISC: ` Permission to use, copy, modify, and/or distribute this software for any
 purpose with or without fee is hereby granted, provided that the above
 copyright notice and this permission notice appear in all copies.
 .
 THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY
 SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR
 IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.`,
};
for (const l of [...used].sort()) text += `\nLicense: ${l}\n${TEXTS[l]}\n`;
process.stdout.write(text);
