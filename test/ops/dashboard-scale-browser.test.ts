import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/core/status-snapshot.js';
import { silentLogger } from '../../src/log.js';
import { EventJournal } from '../../src/status-api/event-journal.js';
import { StatusApiServer } from '../../src/status-api/server.js';

/**
 * The dashboard in chromium over a 10,000-host snapshot with 2,000 suspect (the real status API
 * server, a made-up snapshot): counts over every host, a bounded grid with the suspect hosts first,
 * and a line saying how many are not drawn.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
type Host = StatusSnapshot['hosts'][number];
const mk = (host: string, state: Host['state']): Host => ({
  host,
  state,
  localLevel: state === 'up' ? 'up' : 'dead',
  maintenance: false,
  lastHeartbeatAgeMs: state === 'up' ? 200 : 12_000,
  bootId: 'b',
  novaCompute: 'up',
  lossPct: 0,
  deadAfterMs: 1600,
  decisionSinceMs: null,
  fence: null,
});
const hosts = [
  ...Array.from({ length: 8000 }, (_, i) => mk(`a${String(i).padStart(5, '0')}`, 'up')),
  ...Array.from({ length: 2000 }, (_, i) => mk(`b${String(i).padStart(5, '0')}`, 'suspect')),
];
const snapshot = (): StatusSnapshot =>
  ({
    monitor: { id: 'mon1', bootId: 'x', startedAt: new Date().toISOString(), version: 'test' },
    cluster: {
      quorate: true,
      votes: 3,
      needed: 2,
      expectedVotes: 3,
      coordinator: 'mon1',
      acting: true,
      paused: false,
      epoch: 1,
      members: [],
    },
    hosts,
    alarms: [{ kind: 'mass_failure', message: 'mass failure held' }],
    counters: { received: 0, accepted: 0, dropped: {}, sent: 0, sendErrors: 0 },
    recentEvents: [],
  }) as unknown as StatusSnapshot;

let srv: StatusApiServer;
let browser: Browser;
describe.runIf(existsSync(CHROMIUM))('dashboard at 10,000 hosts', () => {
  beforeAll(async () => {
    const journal = new EventJournal({ monitorId: 'mon1', stateDir: null, log: silentLogger() });
    srv = new StatusApiServer({
      listen: { host: '127.0.0.1', port: 0 },
      token: null,
      snapshot,
      journal,
      stateDir: null,
      log: silentLogger(),
    });
    await srv.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    srv?.stop();
  });

  it('shows counts over all hosts and a bounded grid, not-up hosts first', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${srv.address!.port}/`);
    await page.waitForSelector('.host[data-state="suspect"]', { timeout: 10_000 });
    expect(await page.locator('#host-counts').textContent()).toBe('10,000 · 8,000 up · 2,000 suspect');
    expect(await page.locator('.host').count()).toBe(200);
    expect(await page.locator('.host[data-state="up"]').count()).toBe(0);
    expect(await page.locator('#hosts-more').textContent()).toMatch(/^showing 200 of 10,000 hosts \(not-up first\)/);
    await page.close();
  });
});
