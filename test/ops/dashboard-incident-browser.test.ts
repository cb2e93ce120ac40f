import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { startRecoveryCluster, type RecoveryCluster } from '../helpers/recovery-cluster.js';
import { REQUIRE_SERVICES } from '../helpers/require.js';

/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) over a whole failure
 * and recovery in real processes (3 monitors, beacons, simulated BMCs, the Nova simulator): a loading
 * state before the first data, the fence record in words, the incident as a timeline on a time axis
 * (detection, fence, force-down, one bar per evacuated server), the live view showing every row a
 * reload shows, UTC times as the CLI prints them, the next step on the fenced host's tile, and no raw
 * JSON anywhere. A screenshot is written to test-results/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const msg = `dashboard incident browser test: ${CHROMIUM} not installed (apt-get install -y chromium)`;
  if (REQUIRE_SERVICES) throw new Error(`${msg}; INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping`);
  console.warn(`SKIP ${msg}`);
}
export const SCREENSHOT = join(ROOT, 'test-results', 'dashboard-incident.png');
const victim = 'cmp2';

let c: RecoveryCluster;
let browser: Browser;
let page: Page;
let url: string;

/** The steps rows of the victim's incident as `type server` keys, sorted (a multiset to compare). */
const rows = (p: Page): Promise<string[]> =>
  p
    .locator(`.incident[data-host="${victim}"] .steps li`)
    .evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-type')} ${li.getAttribute('data-server') ?? ''}`.trim()).sort());

describe.runIf(haveChromium)('dashboard: an incident in chromium', () => {
  beforeAll(async () => {
    ensureBuilt();
    c = await startRecoveryCluster({ hosts: ['cmp1', victim, 'cmp3'], victim, servers: 4 });
    url = `http://${c.layout.monitors.find((m) => m.id === c.coordinator)!.statusApi}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await c?.stop();
  });

  it('says it is loading until the first data arrives', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/api/status', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(url);
    expect(await page.locator('#verdict').textContent()).toBe('loading…');
    expect(await page.locator('#loading').isVisible()).toBe(true);
    expect(await page.locator('body').getAttribute('class')).toContain('loading');
    release();
    await page.waitForSelector(`.host[data-host="${victim}"][data-state="up"]`, { timeout: 10_000 });
    expect(await page.locator('#loading').count()).toBe(0);
    // A freshly started monitor may carry a short-lived alarm (local_pause for 1.5 s after a stall on
    // a loaded machine): the verdict must turn HEALTHY, and a lasting alarm fails by name.
    const healthy = await page
      .waitForFunction(() => document.getElementById('verdict')?.textContent === 'HEALTHY', undefined, { timeout: 15_000 })
      .then(() => true)
      .catch(() => false);
    if (!healthy) {
      const s = (await (await fetch(`${url}api/status`)).json()) as { alarms: Array<{ kind: string; message: string }> };
      expect.fail(`verdict ${await page.locator('#verdict').textContent()}; alarms: ${JSON.stringify(s.alarms)}`);
    }
    await page.unroute('**/api/status');
  });

  it('draws a failure as a timeline, puts the fence in words, and shows the next step', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    c.p.kill(victim);
    c.sim.model.killCompute(victim);
    await page.waitForSelector(`.incident[data-host="${victim}"] li[data-type="host.recovery_end"]`, { timeout: 60_000 });
    await page.waitForSelector(`.host[data-host="${victim}"][data-state="evacuated"]`, { timeout: 10_000 });

    // The fence record in words, on the tile and in the steps.
    const detail = await page.locator(`.host[data-host="${victim}"] [data-role="detail"]`).textContent();
    expect(detail).toMatch(new RegExp(`^powered off by mon\\d through bmc-${victim} \\(native IPMI\\), verified in \\d+(\\.\\d)? (ms|s)`));
    expect(await page.locator(`.incident[data-host="${victim}"] li[data-type="host.fenced"] .summary`).textContent()).toMatch(
      /^powered off by mon\d through bmc-cmp2 \(native IPMI\), verified in/,
    );
    // What to do next, on the tile of a host that is powered off.
    expect(await page.locator(`.host[data-host="${victim}"] [data-role="next"]`).textContent()).toContain(
      `instance-ha unfence ${victim} --power-on`,
    );

    // The force-down step, between the fence and the evacuations.
    expect(await page.locator(`.incident[data-host="${victim}"] li[data-type="host.forced_down"] .summary`).textContent()).toMatch(
      /^Nova: nova-compute forced down and disabled \("instance-ha: fenced by mon\d/,
    );

    // The timeline: one lane per step and one per evacuated server, in time order on one axis.
    const tl = page.locator(`.timeline[data-host="${victim}"]`);
    const lanes = await tl.locator('.track').evaluateAll((ts) => ts.map((t) => t.getAttribute('data-lane')));
    expect(lanes.slice(0, 3)).toEqual(['detect', 'fence', 'force-down']);
    const serverLanes = lanes.filter((l) => l!.startsWith('server:'));
    // vm-1 and vm-3 are tagged (evacuated), vm-2 and vm-4 are not (notified): one bar each.
    expect(serverLanes).toHaveLength(4);
    expect(lanes[lanes.length - 1]).toBe('recovery');
    // Read in one go: the page may redraw the timeline between two separate reads.
    const bars = await tl.evaluate((box) =>
      Object.fromEntries(
        [...box.querySelectorAll('.track')].map((t) => {
          const b = t.querySelector('.bar')!;
          return [
            t.getAttribute('data-lane')!,
            {
              from: Number(b.getAttribute('data-from-ms')),
              to: Number(b.getAttribute('data-to-ms')),
              kind: b.getAttribute('data-kind')!,
              left: b.getBoundingClientRect().left,
            },
          ];
        }),
      ),
    );
    const detect = bars.detect!;
    const fence = bars.fence!;
    const forced = bars['force-down']!;
    expect(detect.from).toBe(0);
    expect(fence.from).toBeGreaterThanOrEqual(detect.to);
    expect(forced.to).toBeGreaterThanOrEqual(fence.to);
    expect(fence.kind).toBe('good');
    const kinds: string[] = [];
    for (const l of serverLanes) {
      const b = bars[l!]!;
      expect(b.from, l!).toBeGreaterThanOrEqual(forced.to);
      // Drawn where its time is: later bars start further right.
      expect(b.left, l!).toBeGreaterThanOrEqual(fence.left);
      kinds.push(b.kind);
    }
    expect(kinds.sort()).toEqual(['good', 'good', 'note', 'note']);
    expect(await tl.locator('.track .bar-text').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ACTIVE on cmp[13]$/)]),
    );
    expect(await tl.locator('.axis .tick').count()).toBeGreaterThan(1);

    // Times in UTC with their zone, as the CLI prints them.
    expect(await page.locator(`.incident[data-host="${victim}"] h3`).textContent()).toMatch(/— \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ —/);
    for (const t of await page.locator(`.incident[data-host="${victim}"] .steps .t`).allTextContents())
      expect(t).toMatch(/^\d\d:\d\d:\d\dZ \+/);
    expect(await page.locator('#updated').textContent()).toMatch(/as of \d\d:\d\d:\d\dZ$/);

    // No raw JSON anywhere: not in the text, not in a tooltip.
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(/[{[]\s*"|":\s*[{["\d]/);
    const titles = await page.locator('[title]').evaluateAll((es) => es.map((e) => e.getAttribute('title')!));
    for (const t of titles) expect(t).not.toMatch(/[{[]\s*"|":/);
    expect(errors).toEqual([]);

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    console.log(`dashboard screenshot: ${SCREENSHOT}`);
  });

  it('the live view shows every row a reload shows (both evacuate_start rows included)', async () => {
    const live = await rows(page);
    expect(live.filter((r) => r.startsWith('instance.evacuate_start'))).toEqual([
      'instance.evacuate_start vm-1',
      'instance.evacuate_start vm-3',
    ]);
    await page.reload();
    await page.waitForSelector(`.incident[data-host="${victim}"] li[data-type="host.recovery_end"]`, { timeout: 10_000 });
    expect(await rows(page)).toEqual(live);
  });
});
