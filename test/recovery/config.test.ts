import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectReader } from '../../src/config/reader.js';
import type { ConfigProblem } from '../../src/errors.js';
import { readComputeConfig, readRecoveryConfig, RECOVERY_DEFAULTS } from '../../src/recovery/config.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs();

describe('readRecoveryConfig / readComputeConfig', () => {
  it('gives the defaults for an empty section', () => {
    const problems: ConfigProblem[] = [];
    expect(readRecoveryConfig(new ObjectReader(undefined, 'recovery', problems))).toEqual(RECOVERY_DEFAULTS);
    const c = readComputeConfig(new ObjectReader({}, 'compute', problems));
    expect(c.requestTimeoutMs).toBe(10_000);
    expect(problems).toEqual([]);
  });

  it('reads every key', () => {
    const problems: ConfigProblem[] = [];
    const cfg = readRecoveryConfig(
      new ObjectReader(
        {
          mode: 'notify',
          host_modes: { hci1: 'notify' },
          concurrency: 4,
          max_in_flight: 10,
          instance_timeout: '5m',
          max_attempts: 2,
          retry_backoff: '2s',
          poll_interval: '500ms',
          fast_poll_interval: '100ms',
          min_poll_gap: '50ms',
          nova_notifications: { enabled: true, url: 'amqp://127.0.0.1:5672/', exchange: 'nova', topic: 'versioned_notifications' },
          target_hosts: ['spare1'],
          priority_key: 'prio',
          instance_mode_key: 'mode',
          select: {
            tag: 'ha',
            flavor_extra_specs: { evacuable: true },
            image_properties: { evacuable: 'true' },
            aggregate_metadata: { ha: 'yes' },
          },
          exclude: { projects: ['octavia'], images: ['amp'], name_patterns: ['^amphora-'] },
          unfence: { auto: true, quiet_period: '10m', retry_interval: '3s', timeout: '20m' },
          journal_dir: '/tmp/j',
        },
        'recovery',
        problems,
      ),
    );
    expect(problems).toEqual([]);
    expect(cfg.instanceTimeoutMs).toBe(300_000);
    expect(cfg.select.flavorExtraSpecs).toEqual({ evacuable: 'true' });
    expect(cfg.unfence).toEqual({ auto: true, quietPeriodMs: 600_000, retryIntervalMs: 3_000, timeoutMs: 1_200_000 });
    expect(cfg.hostModes).toEqual({ hci1: 'notify' });
    expect([cfg.pollIntervalMs, cfg.fastPollIntervalMs, cfg.minPollGapMs]).toEqual([500, 100, 50]);
    expect(cfg.novaNotifications).toEqual({
      enabled: true,
      url: 'amqp://127.0.0.1:5672/',
      exchange: 'nova',
      topic: 'versioned_notifications',
    });
  });

  it('an unset fast cadence and gap never exceed poll_interval', () => {
    const problems: ConfigProblem[] = [];
    const cfg = readRecoveryConfig(new ObjectReader({ poll_interval: '100ms' }, 'recovery', problems));
    expect(problems).toEqual([]);
    expect([cfg.pollIntervalMs, cfg.fastPollIntervalMs, cfg.minPollGapMs]).toEqual([100, 100, 100]);
    const d = readRecoveryConfig(new ObjectReader({}, 'recovery', problems));
    expect([d.pollIntervalMs, d.fastPollIntervalMs, d.minPollGapMs]).toEqual([1_000, 250, 200]);
  });

  it('reports unknown keys and bad values with their paths', () => {
    const problems: ConfigProblem[] = [];
    readRecoveryConfig(
      new ObjectReader(
        { mode: 'panic', concurency: 3, select: { tag: 'a/b', colour: 1 }, exclude: { name_patterns: ['('] }, host_modes: { h: 'x' } },
        'recovery',
        problems,
      ),
    );
    readComputeConfig(new ObjectReader({ retries: -1, interface: 'internalURL', passwd: 'x' }, 'compute', problems));
    const paths = problems.map((p) => p.path).sort();
    expect(paths).toEqual([
      'compute.interface',
      'compute.passwd',
      'compute.retries',
      'recovery.concurency',
      'recovery.exclude.name_patterns[0]',
      'recovery.host_modes.h',
      'recovery.mode',
      'recovery.select.colour',
      'recovery.select.tag',
    ]);
  });
});

describe('compute.auth (inline credentials)', () => {
  it('reads the password from a 600 file and refuses a readable one', () => {
    const dir = tempDir('iha-auth-');
    const file = join(dir, 'pw');
    writeFileSync(file, 's3cret\n', { mode: 0o600 });
    const problems: ConfigProblem[] = [];
    const c = readComputeConfig(
      new ObjectReader(
        { auth: { auth_url: 'http://k:5000/v3', username: 'ha', password_file: file, project_name: 'admin' } },
        'compute',
        problems,
      ),
    );
    expect(problems).toEqual([]);
    expect(c.auth).toMatchObject({ authUrl: 'http://k:5000/v3', username: 'ha', password: 's3cret' });
    chmodSync(file, 0o644);
    readComputeConfig(new ObjectReader({ cloud: 'x', auth: { auth_url: 'k', password_file: file } }, 'compute', problems));
    expect(problems.map((p) => p.path).sort()).toEqual([
      'compute.auth',
      'compute.auth.auth_url',
      'compute.auth.password_file',
      'compute.auth.username',
    ]);
  });
});
