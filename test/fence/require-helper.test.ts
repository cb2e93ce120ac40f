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
  it('finds a tool kept off PATH, and treats a tool that does not run as missing', async () => {
    vi.stubEnv('INSTANCE_HA_REQUIRE_SERVICES', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { canRun, findTool } = await import('../helpers/require.js');
    expect(findTool('demo', ['no-such-tool-iha', '/bin/sh'])).toBe('/bin/sh');
    expect(findTool('demo', ['no-such-tool-iha'])).toBeUndefined();
    expect(canRun('demo', 'sh', ['-c', 'exit 0'], 'hint')).toBe(true);
    expect(canRun('demo', 'sh', ['-c', 'exit 3'], 'install it')).toBe(false);
    expect(warn).toHaveBeenLastCalledWith(expect.stringMatching(/^SKIP demo: `sh -c exit 3` does not run .*install it/));
  });
  it('findTool and canRun fail too under INSTANCE_HA_REQUIRE_SERVICES=1', async () => {
    vi.stubEnv('INSTANCE_HA_REQUIRE_SERVICES', '1');
    const { canRun, findTool } = await import('../helpers/require.js');
    expect(() => findTool('demo', ['no-such-tool-iha'])).toThrow(/forbids skipping/);
    expect(() => canRun('demo', 'sh', ['-c', 'exit 3'], 'hint')).toThrow(/forbids skipping/);
  });
});
