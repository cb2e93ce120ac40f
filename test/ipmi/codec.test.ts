import { describe, expect, it } from 'vitest';
import {
  Cmd,
  NetFn,
  channelAuthCapabilitiesRequest,
  closeSessionRequest,
  parseChannelAuthCapabilities,
  parseChassisStatus,
} from '../../src/ipmi/commands.js';
import { aesDecrypt, deriveK, passwordKey } from '../../src/ipmi/crypto.js';
import { IpmiProtocolError } from '../../src/ipmi/errors.js';
import { buildRequest, buildResponse, parseRequest, parseResponse } from '../../src/ipmi/message.js';
import { PayloadType, decodePacket, encodeV15, encodeV20, openSecure, sealSecure } from '../../src/ipmi/packet.js';
import * as rakp from '../../src/ipmi/rakp.js';
import { loadCapture, type Capture } from '../helpers/vectors.js';

const off = loadCapture('c3-chassis-power-off');
const status = loadCapture('c3-chassis-power-status');
const wrong = loadCapture('c3-wrong-password');

function frame(c: Capture, n: number): Buffer {
  const f = c.frames.find((x) => x.n === n);
  if (!f) throw new Error(`frame ${n} missing`);
  return f.raw;
}

function v20(c: Capture, n: number): Buffer {
  const d = decodePacket(frame(c, n));
  if (d.kind !== 'v20') throw new Error('not v20');
  return d.payload;
}

/** Everything a capture's login reveals, parsed with our own codecs. */
function loginContext(c: Capture): rakp.RakpContext {
  const osr = rakp.parseOpenSessionResponse(v20(c, 4));
  const r1 = rakp.parseRakp1(v20(c, 5));
  const r2 = rakp.parseRakp2(v20(c, 6));
  return {
    consoleSessionId: osr.consoleSessionId,
    bmcSessionId: osr.bmcSessionId,
    rm: r1.rm,
    rc: r2.rc,
    guid: r2.guid,
    role: r1.role,
    username: r1.username,
  };
}

describe('IPMI message and v1.5 framing (Get Channel Authentication Capabilities)', () => {
  it('builds the captured request byte for byte', () => {
    const msg = buildRequest({ netFn: NetFn.app, cmd: Cmd.getChannelAuthCapabilities, rqSeq: 0, data: channelAuthCapabilitiesRequest(4) });
    expect(encodeV15(msg)).toEqual(frame(off, 1));
  });
  it('parses the captured answer', () => {
    const d = decodePacket(frame(off, 2));
    expect(d.kind).toBe('v15');
    if (d.kind !== 'v15') return;
    const res = parseResponse(d.message);
    expect(res).toMatchObject({ netFn: 7, cmd: 0x38, completionCode: 0 });
    expect(parseChannelAuthCapabilities(res.data)).toEqual({ channel: 1, supportsIpmi20: true });
  });
  it('rejects bad checksums and truncation', () => {
    const d = decodePacket(frame(off, 2));
    if (d.kind !== 'v15') throw new Error();
    const bad = Buffer.from(d.message);
    bad[bad.length - 1]! ^= 1;
    expect(() => parseResponse(bad)).toThrow(IpmiProtocolError);
    bad[2]! ^= 1;
    expect(() => parseResponse(bad)).toThrow(/checksum/);
    expect(() => parseResponse(d.message.subarray(0, 5))).toThrow(/truncated/);
    expect(() => decodePacket(frame(off, 2).subarray(0, 20))).toThrow(/truncated/);
  });
  it('round-trips requests and responses (simulated BMC side)', () => {
    const rq = { netFn: 0, cmd: 2, rqSeq: 6, data: Buffer.from([0]) };
    expect(parseRequest(buildRequest(rq))).toEqual(rq);
    const rs = { netFn: 1, cmd: 2, rqSeq: 6, completionCode: 0, data: Buffer.alloc(0) };
    expect(parseResponse(buildResponse(rs))).toEqual(rs);
  });
});

describe('Open Session and RAKP messages', () => {
  it('builds the captured Open Session Request (except the privilege we ask for explicitly)', () => {
    const req = rakp.buildOpenSessionRequest({
      tag: 0,
      maxPrivilege: 0,
      consoleSessionId: 0xa0a2a3a4,
      auth: 1,
      integrity: 1,
      confidentiality: 1,
    });
    expect(encodeV20(PayloadType.openSessionRequest, req)).toEqual(frame(off, 3));
    expect(rakp.parseOpenSessionRequest(req)).toMatchObject({ consoleSessionId: 0xa0a2a3a4, auth: 1, integrity: 1, confidentiality: 1 });
  });
  it('parses the captured Open Session Response and round-trips it', () => {
    const r = rakp.parseOpenSessionResponse(v20(off, 4));
    expect(r).toEqual({
      tag: 0,
      status: 0,
      maxPrivilege: 0,
      consoleSessionId: 0xa0a2a3a4,
      bmcSessionId: 0x6d02,
      auth: 1,
      integrity: 1,
      confidentiality: 1,
    });
    expect(rakp.buildOpenSessionResponse(r)).toEqual(v20(off, 4));
  });
  it('builds RAKP 1 and RAKP 3 byte for byte and recomputes the RAKP 2 code, SIK, K1, K2 and RAKP 4 ICV', () => {
    const ctx = loginContext(off);
    expect(ctx.role).toBe(0x14);
    expect(
      encodeV20(
        PayloadType.rakp1,
        rakp.buildRakp1({ tag: 0, bmcSessionId: ctx.bmcSessionId, rm: ctx.rm, role: ctx.role, username: 'admin' }),
      ),
    ).toEqual(frame(off, 5));
    const kuid = passwordKey(off.password);
    expect(rakp.rakp2AuthCode(kuid, ctx)).toEqual(rakp.parseRakp2(v20(off, 6)).authCode);
    expect(rakp.buildRakp2({ ...rakp.parseRakp2(v20(off, 6)) })).toEqual(v20(off, 6));
    const r3 = rakp.buildRakp3({ tag: 0, status: 0, bmcSessionId: ctx.bmcSessionId, authCode: rakp.rakp3AuthCode(kuid, ctx) });
    expect(encodeV20(PayloadType.rakp3, r3)).toEqual(frame(off, 7));
    const sik = rakp.sessionIntegrityKey(kuid, ctx);
    expect(sik).toEqual(off.keys.SIK);
    expect(deriveK(sik, 1)).toEqual(off.keys.K1);
    expect(deriveK(sik, 2)).toEqual(off.keys.K2);
    const r4 = rakp.parseRakp4(v20(off, 8));
    expect(rakp.rakp4Icv(sik, ctx)).toEqual(r4.icv);
    expect(rakp.buildRakp4(r4)).toEqual(v20(off, 8));
  });
  it('detects the wrong password at RAKP 2 (the BMC keyed it with the real one)', () => {
    const ctx = loginContext(wrong);
    const r2 = rakp.parseRakp2(v20(wrong, 6));
    expect(rakp.rakp2AuthCode(passwordKey('wrong'), ctx)).not.toEqual(r2.authCode);
    expect(rakp.rakp2AuthCode(passwordKey('password'), ctx)).toEqual(r2.authCode);
  });
  it('parses error statuses without the optional fields, and rejects truncated messages', () => {
    expect(rakp.parseRakp2(Buffer.from([0, 0x0d, 0, 0, 0xa4, 0xa3, 0xa2, 0xa0]))).toMatchObject({
      status: 0x0d,
      consoleSessionId: 0xa0a2a3a4,
    });
    expect(() => rakp.parseRakp2(v20(off, 6).subarray(0, 59))).toThrow(/truncated/);
    expect(() => rakp.parseRakp4(v20(off, 8).subarray(0, 19))).toThrow(/truncated/);
    expect(() => rakp.parseOpenSessionResponse(v20(off, 4).subarray(0, 30))).toThrow(/truncated/);
    expect(rakp.describeRakpStatus(0x0d)).toMatch(/unauthorized name/);
  });
});

describe('session packets (HMAC-SHA1-96 + AES-CBC-128)', () => {
  for (const c of [off, status]) {
    const ctx = loginContext(c);
    const sik = rakp.sessionIntegrityKey(passwordKey(c.password), ctx);
    const k2 = deriveK(sik, 2);
    const keys = { k1: deriveK(sik, 1), aesKey: k2.subarray(0, 16) };
    const inSession = c.frames.filter((f) => f.n >= 9);
    it(`opens all ${inSession.length} in-session frames of the capture and re-seals them byte for byte`, () => {
      for (const f of inSession) {
        const s = openSecure(keys, f.raw);
        expect(s.sessionId).toBe(f.dir === 'rq' ? ctx.bmcSessionId : ctx.consoleSessionId);
        expect(f.plaintext!.subarray(0, s.message.length)).toEqual(s.message);
        const iv = f.raw.subarray(16, 32);
        expect(sealSecure(keys, s.sessionId, s.seq, s.message, iv)).toEqual(f.raw);
        if (f.dir === 'rq') expect(parseRequest(s.message).netFn).toBeGreaterThanOrEqual(0);
        else expect(parseResponse(s.message).completionCode).toBeGreaterThanOrEqual(0);
      }
    });
    it('rejects a flipped bit anywhere, a truncated packet, and the wrong key', () => {
      const f = inSession[inSession.length - 3]!.raw;
      for (let i = 4; i < f.length; i++) {
        const bad = Buffer.from(f);
        bad[i]! ^= 0x01;
        expect(() => openSecure(keys, bad), `byte ${i}`).toThrow(IpmiProtocolError);
      }
      for (const len of [10, 16, 40, f.length - 1]) expect(() => openSecure(keys, f.subarray(0, len))).toThrow(IpmiProtocolError);
      expect(() => openSecure({ ...keys, k1: Buffer.alloc(20) }, f)).toThrow(/AuthCode/);
    });
  }
  it('decodes the chassis commands of the captures', () => {
    const ctx = loginContext(status);
    const sik = rakp.sessionIntegrityKey(passwordKey('password'), ctx);
    const keys = { k1: deriveK(sik, 1), aesKey: deriveK(sik, 2).subarray(0, 16) };
    const statusRes = parseResponse(openSecure(keys, frame(status, 20)).message);
    expect(statusRes).toMatchObject({ netFn: 1, cmd: 1, completionCode: 0 });
    expect(parseChassisStatus(statusRes.data)).toEqual({ power: 'on', powerFault: false });
    const offCtx = loginContext(off);
    const offSik = rakp.sessionIntegrityKey(passwordKey('password'), offCtx);
    const offKeys = { k1: deriveK(offSik, 1), aesKey: deriveK(offSik, 2).subarray(0, 16) };
    expect(parseRequest(openSecure(offKeys, frame(off, 19)).message)).toEqual({ netFn: 0, cmd: 2, rqSeq: 6, data: Buffer.from([0]) });
    expect(parseRequest(openSecure(offKeys, frame(off, 21)).message).data).toEqual(closeSessionRequest(offCtx.bmcSessionId));
    expect(() => parseChassisStatus(Buffer.from([1, 0]))).toThrow(/truncated/);
  });
  it('builds the captured in-session requests byte for byte (Set Session Privilege, Chassis Control, Get Chassis Status, Close Session)', () => {
    const plain = (c: Capture, n: number, len: number): Buffer => c.frames.find((f) => f.n === n)!.plaintext!.subarray(0, len);
    const bmcSid = rakp.parseOpenSessionResponse(v20(off, 4)).bmcSessionId;
    expect(buildRequest({ netFn: NetFn.app, cmd: Cmd.setSessionPrivilegeLevel, rqSeq: 1, data: Buffer.from([4]) })).toEqual(
      plain(off, 9, 8),
    );
    expect(buildRequest({ netFn: NetFn.chassis, cmd: Cmd.chassisControl, rqSeq: 6, data: Buffer.from([0]) })).toEqual(plain(off, 19, 8));
    expect(buildRequest({ netFn: NetFn.app, cmd: Cmd.closeSession, rqSeq: 7, data: closeSessionRequest(bmcSid) })).toEqual(
      plain(off, 21, 11),
    );
    const statusReq = parseRequest(plain(status, 19, 7));
    expect(statusReq).toMatchObject({ netFn: NetFn.chassis, cmd: Cmd.getChassisStatus });
    expect(buildRequest(statusReq)).toEqual(plain(status, 19, 7));
  });

  it('parses the captured RAKP 3 and Open Session Request (simulated BMC side)', () => {
    const ctx = loginContext(off);
    const r3 = rakp.parseRakp3(v20(off, 7));
    expect(r3).toMatchObject({ status: 0, bmcSessionId: ctx.bmcSessionId });
    expect(r3.authCode).toEqual(rakp.rakp3AuthCode(passwordKey('password'), ctx));
    expect(rakp.parseOpenSessionRequest(v20(off, 3))).toEqual({
      tag: 0,
      maxPrivilege: 0,
      consoleSessionId: 0xa0a2a3a4,
      auth: 1,
      integrity: 1,
      confidentiality: 1,
    });
  });

  it('rejects a payload whose confidentiality pad is wrong', () => {
    expect(() => aesDecrypt(Buffer.alloc(16), Buffer.alloc(20))).toThrow(IpmiProtocolError);
    expect(() => aesDecrypt(Buffer.alloc(16), Buffer.alloc(32))).toThrow(/pad/);
  });
});
