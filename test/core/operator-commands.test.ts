import { describe, expect, it } from 'vitest';
import { FORGETS_PER_BEAT, Forgotten, MAX_FORGOTTEN } from '../../src/core/forgotten.js';
import { operatorRefusal, type OperatorView } from '../../src/core/operator-refusal.js';
import { CoreRig } from './core-rig.js';
import { decision, eventTypes } from './fixtures.js';

/**
 * Operator commands that must not weaken a guard by a slip (issue #11): the refusal rules as a table,
 * and forget as it travels between monitors. The golden trace operator-commands.txt shows the whole
 * story on three monitors.
 */
const view = (o: Partial<OperatorView> = {}): OperatorView => ({
  self: 'm2',
  acting: true,
  coordinator: 'm2',
  knows: (h) => h.startsWith('h'),
  decision: () => undefined,
  heardAgoMs: () => null,
  massHold: null,
  ...o,
});
const at = 1000;
const by = 'alice';

describe('operator refusals', () => {
  it.each<[string, Parameters<typeof operatorRefusal>[0], Partial<OperatorView>, RegExp | null]>([
    ['maintenance of a known host', { type: 'maintenance', at, by, host: 'h1', on: true }, {}, null],
    ['maintenance of an unknown host', { type: 'maintenance', at, by, host: 'cmp-99', on: true }, {}, /unknown host 'cmp-99'.*--force/],
    ['maintenance --force of an unknown host', { type: 'maintenance', at, by, host: 'cmp-99', on: true, force: true }, {}, null],
    ['ack with nothing held', { type: 'ack_mass_failure', at, by }, {}, /nothing is held/],
    [
      'ack on a monitor that is not the coordinator names the coordinator',
      { type: 'ack_mass_failure', at, by },
      { acting: false, coordinator: 'm1' },
      /m2\) is not the acting coordinator.*run it on the coordinator, m1/,
    ],
    ['ack without quorum', { type: 'ack_mass_failure', at, by }, { acting: false, coordinator: null }, /no coordinator now/],
    ['ack with a hold', { type: 'ack_mass_failure', at, by }, { massHold: { sinceMs: 0, hosts: ['h1', 'h2'], limit: 'x' } }, null],
    [
      'ack naming none of the held hosts',
      { type: 'ack_mass_failure', at, by, hosts: ['h7'] },
      { massHold: { sinceMs: 0, hosts: ['h1', 'h2'], limit: 'x' } },
      /none of h7 is held.*held now: h1, h2/,
    ],
    ['forget an unknown host', { type: 'forget', at, by, host: 'cmp-99' }, {}, /unknown host 'cmp-99'/],
    ['forget a fencing host', { type: 'forget', at, by, host: 'h1' }, { decision: () => decision('h1', 'fencing') }, /h1 is fencing/],
    [
      'forget a recovering host',
      { type: 'forget', at, by, host: 'h1' },
      { decision: () => decision('h1', 'recovering') },
      /h1 is recovering/,
    ],
    ['forget a host whose fence failed', { type: 'forget', at, by, host: 'h1' }, { decision: () => decision('h1', 'fence_failed') }, null],
    ['forget a recovered host', { type: 'forget', at, by, host: 'h1' }, { decision: () => decision('h1', 'evacuated') }, null],
    ['confirm-fenced a host that is up', { type: 'confirm_fenced', at, by, host: 'h1' }, {}, /h1 is not decided failed/],
    [
      'confirm-fenced a host still fencing',
      { type: 'confirm_fenced', at, by, host: 'h1' },
      { decision: () => decision('h1', 'fencing') },
      /h1 is fencing/,
    ],
    [
      'confirm-fenced a fenced host',
      { type: 'confirm_fenced', at, by, host: 'h1' },
      { decision: () => decision('h1', 'fenced') },
      /h1 is fenced/,
    ],
    [
      'confirm-fenced a fence_failed host',
      { type: 'confirm_fenced', at, by, host: 'h1' },
      { decision: () => decision('h1', 'fence_failed') },
      null,
    ],
    [
      'confirm-fenced a fence_failed host that is heartbeating',
      { type: 'confirm_fenced', at, by, host: 'h1' },
      { decision: () => decision('h1', 'fence_failed'), heardAgoMs: () => 300 },
      /sending heartbeats \(last heard 300 ms ago\)/,
    ],
    [
      'confirm-fenced on a monitor that is not the coordinator',
      { type: 'confirm_fenced', at, by, host: 'h1' },
      { acting: false, coordinator: 'm1', decision: () => decision('h1', 'fence_failed') },
      /run it on the coordinator, m1/,
    ],
  ])('%s', (_name, input, o, refused) => {
    const why = operatorRefusal(input, view(o));
    if (refused === null) expect(why).toBeNull();
    else expect(why).toMatch(refused);
  });
});

describe('forget across monitors', () => {
  it('is carried to the peers in the heartbeats as an optional forgets list, and only while it must travel', () => {
    const r = new CoreRig();
    r.untilActing();
    expect(r.broadcasts(r.run(300)).every((b) => b.forgets === undefined)).toBe(true);
    r.step({ type: 'forget', at: r.now, host: 'h3', by: 'bob' });
    r.beating.delete('h3');
    const [beat] = r.broadcasts(r.run(50));
    expect(beat?.forgets).toEqual([{ host: 'h3', atMs: r.now - 50, by: 'bob' }]);
    expect(r.broadcasts(r.run(61_000)).at(-1)?.forgets).toBeUndefined();
  });

  it('a peer that has not heard yet cannot bring the host back, nor get it declared, with its old verdicts', () => {
    const r = new CoreRig();
    r.untilActing();
    r.beating.delete('h3');
    r.step({ type: 'forget', at: r.now, host: 'h3', by: 'bob' });
    for (const p of ['m2', 'm3']) r.peers.set(p, { vote: 'm1', verdicts: [{ host: 'h3', level: 'dead', bootId: 'h3-b1' }] });
    const out = r.run(10_000);
    expect(r.core.tracks.has('h3')).toBe(false);
    expect(eventTypes(out).filter((t) => t !== 'host.forgotten')).toEqual([]);
  });

  it('a forgotten host that beats again is watched as a new host, and the echo of its old forget does not remove it again', () => {
    const r = new CoreRig();
    r.untilActing();
    const req = { host: 'h3', atMs: r.now, by: 'bob' };
    r.step({ type: 'forget', ...req, at: r.now });
    r.run(1000);
    expect(r.core.tracks.has('h3')).toBe(true);
    r.peers.set('m2', { vote: 'm1', forgets: [req] });
    r.run(1000);
    expect(r.core.tracks.has('h3')).toBe(true);
  });

  it('the tombstones are bounded, and so is what one heartbeat carries', () => {
    const f = new Forgotten();
    for (let i = 0; i < MAX_FORGOTTEN + 10; i++) f.add({ host: `h${i}`, atMs: i, by: 'bob' }, i);
    expect(f.has('h0')).toBe(false);
    expect(f.has(`h${MAX_FORGOTTEN + 9}`)).toBe(true);
    const carried = f.toCarry(MAX_FORGOTTEN + 10);
    expect(carried).toHaveLength(FORGETS_PER_BEAT);
    expect(carried[0]!.host).toBe(`h${MAX_FORGOTTEN + 9}`);
  });
});
