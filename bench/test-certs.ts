import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A throw-away CA with a server certificate for localhost/127.0.0.1 and a client certificate,
 * made with the openssl CLI: enough to run the broker with TLS and peer verification in tests.
 */
const run = promisify(execFile);

export interface TestCerts {
  caFile: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export async function makeTestCerts(dir: string): Promise<TestCerts> {
  const p = (f: string): string => join(dir, f);
  const ossl = (...args: string[]): Promise<unknown> => run('openssl', args, { cwd: dir, timeout: 30_000 });
  writeFileSync(p('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await ossl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=iha-test-ca',
  );
  for (const [name, cn, ext] of [
    ['server', 'localhost', true],
    ['client', 'iha-client', false],
  ] as const) {
    await ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    await ossl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      ...(ext ? ['-extfile', 'san.ext'] : []),
    );
  }
  return {
    caFile: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
  };
}
