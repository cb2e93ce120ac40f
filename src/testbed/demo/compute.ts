import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIM_ADMIN, startNovaSim, type NovaSim } from '../nova-sim/server.js';
import type { ServerSpec } from '../nova-sim/types.js';

export interface DemoCompute {
  sim: NovaSim;
  /** compute: and recovery: sections for a monitor whose state lives in `stateDir`. */
  monitorSections(stateDir: string): Record<string, unknown>;
  /** The host's nova-compute dies with it. */
  powerLoss(host: string): void;
  stop(): Promise<void>;
}

/**
 * The Nova simulator for the demo, in the demo's own process: every host carries `serversPerHost`
 * servers, the odd ones tagged `automatic-recovery` (evacuated), the even ones not (notified only).
 */
export async function startDemoCompute(o: { hosts: string[]; serversPerHost: number; dir: string }): Promise<DemoCompute> {
  const servers: ServerSpec[] = o.hosts.flatMap((host, h) =>
    Array.from({ length: o.serversPerHost }, (_, i) => ({
      name: `vm-${h + 1}-${i + 1}`,
      host,
      tags: i % 2 === 0 ? ['automatic-recovery'] : [],
      tenantId: 'tenant-a',
    })),
  );
  const sim = await startNovaSim({ hosts: o.hosts, servers, rebuildMs: 800, claimMs: 100 });
  const passwordFile = join(o.dir, 'keystone-admin.password');
  writeFileSync(passwordFile, `${SIM_ADMIN.password}\n`, { mode: 0o600 });
  return {
    sim,
    monitorSections: (stateDir) => ({
      compute: {
        auth: {
          auth_url: sim.authUrl,
          username: SIM_ADMIN.name,
          password_file: passwordFile,
          project_name: 'admin',
          user_domain_name: 'Default',
          project_domain_name: 'Default',
        },
        request_timeout: '5s',
      },
      recovery: { journal_dir: join(stateDir, 'recovery'), poll_interval: '200ms', concurrency: 8 },
    }),
    powerLoss: (host) => sim.model.killCompute(host),
    stop: () => sim.stop(),
  };
}
