import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIM_ADMIN, type NovaSim } from '../../src/testbed/nova-sim/server.js';

/**
 * A monitor config's `compute:` section against the Nova simulator, the admin's password in a
 * 0600 file under `dir` (as an operator keeps it, never inline in the config).
 */
export function simComputeSection(sim: NovaSim, dir: string): Record<string, unknown> {
  const pw = join(dir, 'keystone.password');
  writeFileSync(pw, `${SIM_ADMIN.password}\n`, { mode: 0o600 });
  return {
    auth: {
      auth_url: sim.authUrl,
      username: 'admin',
      password_file: pw,
      project_name: 'admin',
      user_domain_name: 'Default',
      project_domain_name: 'Default',
    },
  };
}
