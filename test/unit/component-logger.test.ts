import { describe, expect, it } from 'vitest';
import { componentLogger, withFields } from '../../src/log.js';
import { duplicateKeys, memoryLogger } from '../helpers/logs.js';

describe('componentLogger', () => {
  it('dots a component under a component and keeps each key once, with the parent fields and redaction', () => {
    const { log, text } = memoryLogger();
    const recovery = componentLogger(log, 'recovery');
    const host = componentLogger(recovery, 'recovery', { host: 'cmp1' }); // the same name adds no level
    const nova = componentLogger(host, 'openstack');
    withFields(nova, { host: 'cmp2', server: 's1', password: 'hunter2' }).info('evacuate');
    const lines = text().trim().split('\n');
    expect(lines.flatMap(duplicateKeys)).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ component: 'recovery.openstack', host: 'cmp2', server: 's1', password: '[redacted]' });
  });

  it('finds duplicate keys at any depth (the checker the process test relies on)', () => {
    expect(duplicateKeys('{"a":1,"component":"x","b":{"c":[1,{"d":"e\\"","d":2}]},"component":"y"}')).toEqual(['b.c[].d', 'component']);
    expect(duplicateKeys('{"a":1,"b":[],"c":{},"d":null,"e":-1.5e3,"f":"}"}')).toEqual([]);
  });
});
