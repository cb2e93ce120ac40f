import { describe, expect, it } from 'vitest';
import { startDemoBmcs } from '../../src/testbed/demo/bmcs.js';
import { TopologyFencer } from '../../src/fence/fencer.js';
import { silentLogger } from '../../src/log.js';
import { haveTools } from '../helpers/require.js';

/** Decided at collection: without ipmi_sim its case is a skip with a message, or a failure under INSTANCE_HA_REQUIRE_SERVICES=1. */
const haveIpmiSim = haveTools('demo BMCs through ipmi_sim', ['ipmi_sim']);

describe('demo BMCs', () => {
  for (const prefer of ['sim-bmc', 'ipmi_sim'] as const) {
    it.runIf(prefer === 'sim-bmc' || haveIpmiSim)(`fences each host through ${prefer}`, async () => {
      const offs: string[] = [];
      const demo = await startDemoBmcs(['c1', 'c2'], { prefer, onPower: (h, s) => offs.push(`${h}:${s}`) });
      try {
        expect(demo.kind).toBe(prefer);
        const fencer = new TopologyFencer({ config: demo.config, log: silentLogger(), monitorId: 'demo' });
        expect((await fencer.fence('c2', new AbortController().signal)).ok).toBe(true);
        expect(demo.power('c2')).toBe('off');
        expect(demo.power('c1')).toBe('on');
        if (prefer === 'sim-bmc') expect(offs).toEqual(['c2:off']);
      } finally {
        await demo.stop();
      }
    });
  }
});
