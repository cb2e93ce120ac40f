import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectReader } from '../../src/config/reader.js';
import type { ConfigProblem } from '../../src/errors.js';
import { readNotificationsConfig, redactUrl } from '../../src/notify/config.js';
import { connectArgs } from '../../src/notify/connection.js';
import { tmpDir } from './harness.js';

function read(section: unknown): { cfg: ReturnType<typeof readNotificationsConfig>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const root = ObjectReader.root({ notifications: section }, problems);
  const cfg = readNotificationsConfig(root.object('notifications'));
  return { cfg, problems };
}

describe('notifications config', () => {
  it('defaults are oslo.messaging’s', () => {
    const { cfg, problems } = read(undefined);
    expect(problems).toEqual([]);
    expect(cfg).toMatchObject({
      enabled: false,
      exchange: 'openstack',
      topic: 'notifications',
      durable: false,
      heartbeatS: 30,
      outbox: { dir: '/var/lib/instance-ha/outbox', maxRecords: 10_000, maxBytes: 64 * 1024 * 1024 },
      maxInFlight: 500,
    });
  });

  it('reports every problem with its key path, unknown keys included', () => {
    const { problems } = read({
      enabled: true,
      exchange: 'bad name',
      heartbeat: 'soon',
      outbox: { max_records: 0, colour: 'red' },
      priorities: { 'instance_ha.host.failed': 'LOUD' },
      tls: { ca_file: '/x' },
      surprise: 1,
    });
    expect(problems.map((p) => p.path).sort()).toEqual([
      'notifications.exchange',
      'notifications.heartbeat',
      'notifications.outbox.colour',
      'notifications.outbox.max_records',
      'notifications.priorities.instance_ha.host.failed',
      'notifications.surprise',
      'notifications.tls',
      'notifications.tls.ca_file',
      'notifications.url',
    ]);
  });

  it('password_file overrides the URL password and never shows in the redacted URL', () => {
    const dir = tmpDir('iha-cfg-');
    const pw = join(dir, 'pw');
    writeFileSync(pw, 'fromfile\n');
    chmodSync(pw, 0o600);
    const { cfg, problems } = read({
      enabled: true,
      url: 'amqps://nova:inline@mq.example:5671/%2Fprod',
      password_file: pw,
      heartbeat: '10s',
    });
    expect(problems).toEqual([]);
    const { url } = connectArgs(cfg, 'x');
    expect(url).toMatchObject({
      protocol: 'amqps',
      hostname: 'mq.example',
      port: 5671,
      username: 'nova',
      password: 'fromfile',
      vhost: '/prod',
      heartbeat: 10,
    });
    expect(redactUrl(cfg.url)).toBe('amqps://nova:***@mq.example:5671/%2Fprod');
  });
});
