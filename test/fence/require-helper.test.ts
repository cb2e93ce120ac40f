import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('test helper: missing services', () => {
  it('skips with a message when a tool is missing', async () => {
    vi.stubEnv('INSTANCE_HA_REQUIRE_SERVICES', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { haveTools } = await import('../helpers/require.js');
    expect(haveTools('demo', ['sh'])).toBe(true);
    expect(haveTools('demo', ['no-such-tool-iha'])).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^SKIP demo: no-such-tool-iha not installed/));
  });
  it('fails instead under INSTANCE_HA_REQUIRE_SERVICES=1', async () => {
    vi.stubEnv('INSTANCE_HA_REQUIRE_SERVICES', '1');
    const { haveTools } = await import('../helpers/require.js');
    expect(() => haveTools('demo', ['no-such-tool-iha'])).toThrow(/INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping/);
  });
});
