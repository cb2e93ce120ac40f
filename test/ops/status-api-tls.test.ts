import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { readMonitorConfig } from '../../src/daemon/monitor-config.js';
import { silentLogger } from '../../src/log.js';
import { EventJournal } from '../../src/status-api/event-journal.js';
import { StatusApiServer } from '../../src/status-api/server.js';
import { REQUIRE_SERVICES, which } from '../helpers/require.js';

/** The status API over HTTPS (status_api.tls), as for a non-loopback address: TLS plus the token. */
const haveOpenssl = !!which('openssl');
if (!haveOpenssl) {
  if (REQUIRE_SERVICES) throw new Error('status API TLS: openssl not installed; INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping');
  console.warn('SKIP status API TLS: openssl not installed (apt-get install -y openssl)');
}

const BASE = `id: m1\nmonitors: [{ id: m1, address: 127.0.0.1:7400 }]\nmonitor_key: ${'k'.repeat(32)}\nbeacon_master_key: ${'b'.repeat(32)}\n`;
const TOKEN = 'tls-test-token-0123456789';
let dir: string;

function get(url: string, o: { ca?: string; token?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = o.token ? { authorization: `Bearer ${o.token}` } : {};
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(
      url,
      { headers, timeout: 3000, ...(o.ca ? { ca: o.ca } : {}) },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe.runIf(haveOpenssl)('status API over TLS', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iha-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    chmodSync(join(dir, 'key.pem'), 0o600);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads status_api.tls, and refuses a key readable by others', () => {
    const yaml = `status_api: { listen: 0.0.0.0:7411, token: ${TOKEN}, tls: { cert_file: ${dir}/cert.pem, key_file: ${dir}/key.pem } }\n`;
    const cfg = parseConfig(BASE + yaml, 'm.yaml', readMonitorConfig);
    expect(cfg.ops.statusApi.tls?.cert).toContain('BEGIN CERTIFICATE');
    chmodSync(join(dir, 'key.pem'), 0o644);
    try {
      expect(() => parseConfig(BASE + yaml, 'm.yaml', readMonitorConfig)).toThrow(/status_api\.tls\.key_file.*readable by group\/other/);
    } finally {
      chmodSync(join(dir, 'key.pem'), 0o600);
    }
    expect(() => parseConfig(BASE + `status_api: { tls: { cert_file: ${dir}/cert.pem } }\n`, 'm.yaml', readMonitorConfig)).toThrow(
      /status_api\.tls\.key_file.*required/,
    );
  });

  it('serves HTTPS with the token, and nothing over plain HTTP', async () => {
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const srv = new StatusApiServer({
      listen: { host: '127.0.0.1', port: 0 },
      token: TOKEN,
      tls: { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') },
      snapshot: () => ({ ok: true }),
      journal: new EventJournal({ monitorId: 'm1', stateDir: null, log: silentLogger() }),
      stateDir: null,
      log: silentLogger(),
    });
    const { port } = await srv.start();
    try {
      expect(await get(`https://127.0.0.1:${port}/api/status`, { ca: cert, token: TOKEN })).toEqual({ status: 200, body: '{"ok":true}' });
      expect((await get(`https://127.0.0.1:${port}/api/status`, { ca: cert })).status).toBe(401);
      // Without trusting the certificate the client refuses; a plain HTTP client gets no answer.
      await expect(get(`https://127.0.0.1:${port}/api/status`, { token: TOKEN })).rejects.toThrow(/self.signed|certificate/i);
      const plain = await get(`http://127.0.0.1:${port}/api/status`, { token: TOKEN }).catch((e: Error) => e);
      expect(plain instanceof Error || plain.status !== 200).toBe(true);
    } finally {
      srv.stop();
    }
  });
});
