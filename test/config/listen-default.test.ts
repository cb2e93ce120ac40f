import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { readMonitorConfig } from '../../src/daemon/monitor-config.js';

/** A monitor that names no `listen` binds its own port on every address of its own family. */
describe('the default listen address', () => {
  const keys = `monitor_key: ${'m'.repeat(32)}\nbeacon_master_key: ${'b'.repeat(32)}\n`;

  it('is 0.0.0.0:<own port> for an IPv4 monitor address', () => {
    const cfg = parseConfig(`id: m1\nmonitors: [{ id: m1, address: '127.0.0.1:7400' }]\n${keys}`, 'm.yaml', readMonitorConfig);
    expect(cfg.listen).toEqual([{ host: '0.0.0.0', port: 7400 }]);
  });

  it('is [::]:<own port> for an IPv6 one (found by the config fuzz: it was written ":::7400" and refused)', () => {
    const cfg = parseConfig(`id: m1\nmonitors: [{ id: m1, address: '[fe80::1]:7400' }]\n${keys}`, 'm.yaml', readMonitorConfig);
    expect(cfg.listen).toEqual([{ host: '::', port: 7400 }]);
  });
});
