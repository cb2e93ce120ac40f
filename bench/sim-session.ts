import type { Logger } from '../src/log.js';
import { COMPUTE_DEFAULTS } from '../src/openstack/config.js';
import type { HttpOptions } from '../src/openstack/http.js';
import { KeystoneSession } from '../src/openstack/keystone.js';
import type { NovaSim } from '../src/testbed/nova-sim/server.js';

/**
 * The admin's Keystone session on the Nova simulator, with the daemon's default HTTP and token
 * settings: the benches measure what a monitor would see, so they do not take the tests' fast
 * timeouts (test/helpers/sim-client.ts).
 */
export function simSession(sim: NovaSim, log: Logger): { http: HttpOptions; session: KeystoneSession } {
  const http: HttpOptions = {
    fetch,
    log,
    requestTimeoutMs: COMPUTE_DEFAULTS.requestTimeoutMs,
    retries: COMPUTE_DEFAULTS.retries,
    minBackoffMs: COMPUTE_DEFAULTS.minBackoffMs,
    maxBackoffMs: COMPUTE_DEFAULTS.maxBackoffMs,
  };
  const session = new KeystoneSession({
    credentials: {
      authUrl: sim.authUrl,
      method: 'password',
      username: 'admin',
      password: 'admin',
      projectName: 'admin',
      interface: 'public',
    },
    http,
    log,
    renewBeforeMs: COMPUTE_DEFAULTS.tokenRenewBeforeMs,
  });
  return { http, session };
}
