import { describe, expect, it } from 'vitest';
import { tallyHost } from '../../src/core/tally.js';
import { voter, type Seen } from './fixtures.js';

/** How the monitors' views of one host add up: dead votes, suspect-or-dead, and monitors that hear it. */
describe('tally of one host', () => {
  it.each<[string, Seen[], boolean[], { dead: string[]; suspectOrDead: number; silentAwake: string[]; up: number }]>([
    ['all hear it', ['up', 'up', 'up'], [], { dead: [], suspectOrDead: 0, silentAwake: [], up: 3 }],
    [
      'two dead, one suspect',
      ['dead', 'suspect', 'dead'],
      [],
      { dead: ['m1', 'm3'], suspectOrDead: 3, silentAwake: ['m1', 'm2', 'm3'], up: 0 },
    ],
    [
      'a voter that never heard of it says nothing',
      ['dead', 'unknown', 'up'],
      [],
      { dead: ['m1'], suspectOrDead: 1, silentAwake: ['m1'], up: 1 },
    ],
    [
      'a stalled voter is no dead vote, but does not hear it either',
      ['dead', 'dead', 'up'],
      [false, true],
      { dead: ['m1'], suspectOrDead: 2, silentAwake: ['m1'], up: 1 },
    ],
    // What an early power check needs (core/power-checks.ts): a stalled monitor finds everyone silent.
    [
      'a stalled voter is not silent-awake either',
      ['suspect', 'suspect', 'up'],
      [false, true],
      { dead: [], suspectOrDead: 2, silentAwake: ['m1'], up: 1 },
    ],
  ])('%s', (_name, views, paused, expected) => {
    const voters = views.map((seen, i) => voter(`m${i + 1}`, { h1: seen }, paused[i] ?? false));
    expect(tallyHost('h1', voters)).toMatchObject(expected);
  });

  it('takes the boot id of the first dead vote that has one, else of the first suspect one', () => {
    const a = voter('m1', { h1: 'suspect' });
    const b = voter('m2', { h1: 'dead' });
    const c = voter('m3', { h1: 'dead' });
    (b.verdicts as Map<string, { host: string; level: 'dead' | 'suspect'; bootId: string }>).set('h1', {
      host: 'h1',
      level: 'dead',
      bootId: '',
    });
    expect(tallyHost('h1', [a, b, c]).bootId).toBe('h1-boot-m3');
    expect(tallyHost('h1', [c, b]).bootId).toBe('h1-boot-m3');
    expect(tallyHost('h1', [a, b]).bootId).toBe('h1-boot-m1');
    expect(tallyHost('h1', [b]).bootId).toBe('');
  });
});
