import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { startOpsCluster, type OpsCluster } from '../helpers/ops-cluster.js';
import { REQUIRE_SERVICES } from '../helpers/require.js';

/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) against real
 * monitors and beacons on loopback: the page loads, a killed beacon's host goes suspect → failed →
 * fenced (fence_fake) in the grid and in the timeline, and a screenshot is written.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const msg = `dashboard browser test: ${CHROMIUM} not installed (apt-get install -y chromium)`;
  if (REQUIRE_SERVICES) throw new Error(`${msg}; INSTANCE_HA_REQUIRE_SERVICES=1 forbids skipping`);
  console.warn(`SKIP ${msg}`);
}
export const SCREENSHOT = join(ROOT, 'test-results', 'dashboard.png');

let c: OpsCluster;
let browser: Browser;
let page: Page;

describe.runIf(haveChromium)('dashboard in chromium', () => {
  beforeAll(async () => {
    ensureBuilt();
    c = await startOpsCluster({ monitors: 3, hosts: ['cmp1', 'cmp2', 'cmp3', 'cmp4'], beaconIntervalMs: 500, unfenceable: ['cmp3'] });
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
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await c?.p.cleanup();
  });

  it('shows the cluster, then a killed host going suspect → failed → fenced, live', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The coordinator's dashboard: fence steps are recorded where they run (whichever monitor won).
    const coordinator = (await (await fetch(`${c.api.mon1}/api/status`)).json()) as { cluster: { coordinator: string | null } };
    expect(coordinator.cluster.coordinator).not.toBeNull();
    await page.goto(c.api[coordinator.cluster.coordinator!]!);
    await page.waitForSelector('.host[data-host="cmp4"][data-state="up"]', { timeout: 10_000 });
    expect(await page.locator('#verdict').getAttribute('data-code')).toBe('0');
    expect(await page.locator('#monitors li').count()).toBe(3);
    expect(await page.locator('#monitors li.coordinator').count()).toBe(1);
    expect(await page.locator('.host').count()).toBe(4);

    // Record every state the cmp2 tile shows, however briefly.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const note = (): void => {
        const s = document.querySelector('.host[data-host="cmp2"]')?.getAttribute('data-state');
        if (s && seen[seen.length - 1] !== s) seen.push(s);
      };
      new MutationObserver(note).observe(document.getElementById('hosts')!, { subtree: true, childList: true, attributes: true });
      note();
    });
    c.p.kill('cmp2');
    await page.waitForSelector('.host[data-host="cmp2"][data-state="fenced"]', { timeout: 20_000 });
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    // failed → fencing → fenced can pass within one status refresh with fence_fake: the tile must
    // show up, suspect and fenced, and whatever else it showed must be in the lifecycle's order.
    const ladder = ['up', 'suspect', 'failed', 'fencing', 'fenced'];
    expect(seen, seen.join(' → ')).toEqual([...seen].sort((a, b) => ladder.indexOf(a) - ladder.indexOf(b)));
    expect(seen.every((s) => ladder.includes(s))).toBe(true);
    expect(seen[0]).toBe('up');
    expect(seen[1]).toBe('suspect');
    expect(seen[seen.length - 1]).toBe('fenced');
    console.log(`cmp2 tile: ${seen.join(' → ')}`);
    // The others never moved.
    for (const h of ['cmp1', 'cmp3', 'cmp4']) expect(await page.locator(`.host[data-host="${h}"]`).getAttribute('data-state')).toBe('up');

    // The timeline holds the incident, steps in order, the fence naming its agent.
    const steps = page.locator('.incident[data-host="cmp2"] .steps li');
    await page.waitForSelector('.incident[data-host="cmp2"] li[data-type="host.fenced"]', { timeout: 5000 });
    const types = await steps.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-type')));
    expect(types.slice(0, 2)).toEqual(['host.suspect', 'host.failed']);
    expect(types.indexOf('host.fenced')).toBeGreaterThan(types.indexOf('host.fencing'));
    expect(await page.locator('.incident[data-host="cmp2"] li[data-type="host.fenced"]').textContent()).toContain('fence_fake');
    expect(errors).toEqual([]);
  });

  it('raises the fence_failed alarm and turns the verdict degraded when a host cannot be fenced', async () => {
    c.p.kill('cmp3');
    await page.waitForSelector('.host[data-host="cmp3"][data-state="fence_failed"]', { timeout: 20_000 });
    await page.waitForSelector('#alarms li[data-kind="fence_failed"]', { timeout: 5000 });
    expect(await page.locator('#alarms li[data-kind="fence_failed"]').textContent()).toContain('cmp3');
    await page.waitForSelector('#verdict[data-code="1"]', { timeout: 5000 });
    await page.waitForSelector('.incident[data-host="cmp3"] li[data-type="host.fence_failed"]', { timeout: 5000 });
    expect(await page.locator('.incident[data-host="cmp3"] li[data-type="host.fenced"]').count()).toBe(0);
    // The tile says why the fence failed, and what to do next.
    await page.waitForFunction(() => /NOT powered off/.test(document.querySelector('.host[data-host="cmp3"] .detail')?.textContent ?? ''));
    expect(await page.locator('.host[data-host="cmp3"] .detail').textContent()).toMatch(
      /^NOT powered off by mon\d through fake-cmp3 \(fence_fake\).*: .*simulated failure/,
    );
    expect(await page.locator('.host[data-host="cmp3"] .next').textContent()).toContain('instance-ha fence cmp3 --action status');
    // cmp2 stays fenced, the rest up.
    expect(await page.locator('.host[data-host="cmp2"]').getAttribute('data-state')).toBe('fenced');

    // Another monitor's dashboard says where the fence steps are, instead of "no failures recorded".
    const coord = (await (await fetch(`${c.api.mon1}/api/status`)).json()) as { cluster: { coordinator: string } };
    const other = Object.keys(c.api).find((m) => m !== coord.cluster.coordinator)!;
    const side = await browser.newPage();
    await side.goto(c.api[other]!);
    await side.waitForFunction(() => (document.getElementById('timeline-where')?.textContent ?? '').length > 0, undefined, {
      timeout: 5000,
    });
    expect(await side.locator('#timeline-where').textContent()).toBe(
      `This monitor (${other}) is not the coordinator: the fence and recovery steps are recorded by ${coord.cluster.coordinator}; open its dashboard for them.`,
    );
    await side.close();

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });

  it('shows a host whose beacon stopped cleanly as left, not green, saying its instances are not protected; no incident', async () => {
    c.p.kill('cmp4', 'SIGTERM');
    await page.waitForSelector('.host[data-host="cmp4"][data-state="left"]', { timeout: 10_000 });
    const tile = page.locator('.host[data-host="cmp4"]');
    expect(await tile.locator('.next').textContent()).toMatch(/NOT protected/);
    const colour = await tile.evaluate((el) => getComputedStyle(el).backgroundColor);
    const upColour = await page.locator('.host[data-host="cmp1"]').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(colour).not.toBe(upColour);
    expect(await page.locator('.incident[data-host="cmp4"]').count()).toBe(0);
  });
});
