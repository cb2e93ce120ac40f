import { afterEach } from 'vitest';
import { startNovaSim, type NovaSim, type NovaSimOptions } from '../../src/testbed/nova-sim/server.js';

/**
 * Returns `start`, which starts the Nova simulator for one test; it is stopped after that test,
 * passed or failed, so a failing test leaves no listening simulator to the next.
 */
export function novaSimPerTest(): (opts: NovaSimOptions) => Promise<NovaSim> {
  let sim: NovaSim | null = null;
  afterEach(async () => {
    await sim?.stop();
    sim = null;
  });
  return async (opts) => (sim = await startNovaSim(opts));
}
