/**
 * An IPMI v2.0 RMCP+ ("lanplus") session, cipher suite 3: login (§13.15 session activation:
 * Get Channel Authentication Capabilities, Open Session, RAKP 1–4), Set Session Privilege Level,
 * authenticated and encrypted requests with sequence numbers and retransmission, Close Session.
 */
import { randomBytes } from 'node:crypto';
import { Cmd, NetFn, channelAuthCapabilitiesRequest, closeSessionRequest, parseChannelAuthCapabilities } from './commands.js';
import { deriveK, passwordKey, sameBytes } from './crypto.js';
import { IpmiAuthError, IpmiCompletionError, IpmiError, IpmiProtocolError, IpmiUnsupportedError } from './errors.js';
import { Exchanger } from './exchange.js';
import { buildRequest, parseResponse, type IpmiResponse } from './message.js';
import { PayloadType, decodePacket, encodeV15, encodeV20, openSecure, sealSecure, type SessionKeys } from './packet.js';
import * as rakp from './rakp.js';
import { connectUdp, type DatagramTransport } from './transport.js';

/**
 * The client's own logging port, so src/ipmi needs no app logger: a pino Logger (or a child) fits as
 * it is, and the fence_ipmi agent passes a no-op so a short-lived process does not load pino.
 */
export interface IpmiLogger {
  debug(fields: object, msg: string): void;
}

export interface IpmiSessionOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  /** Only 3 is implemented (see checkCipherSuite). */
  cipherSuite: number;
  privilege: rakp.PrivilegeName;
  /** Bound on the whole login (capabilities through Set Session Privilege Level). */
  loginTimeoutMs: number;
  /** Bound on each later request, retransmissions included. */
  requestTimeoutMs: number;
  /** First retransmission interval; grows ×1.5 per resend. */
  retransmitMs: number;
  log: IpmiLogger;
  signal?: AbortSignal;
  /** Injected for tests; a connected UDP socket otherwise. */
  transport?: DatagramTransport;
}

export const SESSION_DEFAULTS = {
  cipherSuite: 3,
  privilege: 'administrator',
  loginTimeoutMs: 5000,
  requestTimeoutMs: 5000,
  retransmitMs: 500,
} as const;

/** Refuses, with a reason, every cipher suite this client does not implement and test. */
export function checkCipherSuite(suite: number): void {
  if (suite === 3) return;
  if (suite === 0)
    throw new IpmiUnsupportedError('cipher suite 0 authenticates nothing (any password is accepted); refusing it for fencing');
  if (suite === 17) {
    throw new IpmiUnsupportedError(
      'cipher suite 17 (HMAC-SHA256 / HMAC-SHA256-128 / AES-CBC-128) is not implemented: ' +
        'there are no trusted test vectors for it (ipmi_sim 2.0.33 lacks the SHA-256 suites); use cipher 3 or fence_ipmilan',
    );
  }
  throw new IpmiUnsupportedError(`cipher suite ${suite} is not implemented; only 3 (HMAC-SHA1 / HMAC-SHA1-96 / AES-CBC-128) is`);
}

export class IpmiSession {
  private sendSeq = 0;
  private lastRecvSeq = 0;
  private rqSeq = 0;
  private closed = false;

  private constructor(
    private readonly ex: Exchanger,
    private readonly transport: DatagramTransport,
    private readonly opts: IpmiSessionOptions,
    private readonly keys: SessionKeys,
    readonly consoleSessionId: number,
    readonly bmcSessionId: number,
  ) {}

  static async open(opts: IpmiSessionOptions): Promise<IpmiSession> {
    checkCipherSuite(opts.cipherSuite);
    const peer = `${opts.host}:${opts.port}`;
    const transport = opts.transport ?? (await connectUdp(opts.host, opts.port));
    const ex = new Exchanger(transport, peer);
    try {
      return await login(ex, transport, opts);
    } catch (err) {
      transport.close();
      throw err;
    }
  }

  /** @internal used by login() only. */
  static fromLogin(
    ex: Exchanger,
    transport: DatagramTransport,
    opts: IpmiSessionOptions,
    keys: SessionKeys,
    consoleSid: number,
    bmcSid: number,
  ): IpmiSession {
    return new IpmiSession(ex, transport, opts, keys, consoleSid, bmcSid);
  }

  /** Sends one in-session request; resolves with the response (completion code not checked). */
  async request(
    what: string,
    netFn: number,
    cmd: number,
    data: Uint8Array,
    timeoutMs = this.opts.requestTimeoutMs,
    retransmit = true,
  ): Promise<IpmiResponse> {
    if (this.closed) throw new IpmiError(`${what}: session is closed`);
    this.rqSeq = (this.rqSeq % 63) + 1;
    const rqSeq = this.rqSeq;
    const msg = buildRequest({ netFn, cmd, rqSeq, data });
    return this.ex.run({
      what,
      timeoutMs,
      // Never resent: the first send and the deadline coincide.
      retransmitMs: retransmit ? this.opts.retransmitMs : timeoutMs + 1,
      signal: this.opts.signal,
      // A retransmission is a new session packet (new sequence number, §13.6) carrying the same rqSeq.
      build: () => sealSecure(this.keys, this.bmcSessionId, ++this.sendSeq, msg),
      accept: (p) => {
        const s = openSecure(this.keys, p);
        if (s.sessionId !== this.consoleSessionId)
          throw new IpmiProtocolError(`packet for session 0x${s.sessionId.toString(16)}, not ours`);
        // Replay protection (IPMI v2.0 §6.12, session sequence numbers): answers only move forward, so a
        // replayed older packet, however authentic, is dropped.
        if (s.seq <= this.lastRecvSeq) throw new IpmiProtocolError(`replayed or stale session sequence number ${s.seq}`);
        const res = parseResponse(s.message);
        if (res.netFn !== (netFn | 1) || res.cmd !== cmd || res.rqSeq !== rqSeq)
          throw new IpmiProtocolError(`answer to another request (netFn ${res.netFn} cmd ${res.cmd} rqSeq ${res.rqSeq})`);
        this.lastRecvSeq = s.seq;
        return res;
      },
    });
  }

  /** A request whose completion code must be 0. */
  async command(what: string, netFn: number, cmd: number, data: Uint8Array, timeoutMs?: number, retransmit = true): Promise<Buffer> {
    const res = await this.request(what, netFn, cmd, data, timeoutMs, retransmit);
    if (res.completionCode !== 0) throw new IpmiCompletionError(what, res.completionCode);
    return res.data;
  }

  /** Close Session (§22.19), best effort: the BMC frees the slot; a lost answer only delays that. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.command(
        'Close Session',
        NetFn.app,
        Cmd.closeSession,
        closeSessionRequest(this.bmcSessionId),
        Math.min(this.opts.requestTimeoutMs, 1000),
      );
    } catch (err) {
      this.opts.log.debug({ err }, 'ipmi close session failed');
    } finally {
      this.closed = true;
      this.transport.close();
    }
  }

  /** Drops the socket without telling the BMC (after a fatal error). */
  abandon(): void {
    this.closed = true;
    this.transport.close();
  }
}

async function login(ex: Exchanger, transport: DatagramTransport, opts: IpmiSessionOptions): Promise<IpmiSession> {
  const deadline = Date.now() + opts.loginTimeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  const common = { retransmitMs: opts.retransmitMs, signal: opts.signal };
  const priv = rakp.Privilege[opts.privilege];
  const kuid = passwordKey(opts.password);

  // §22.13: also the cheapest proof that an IPMI 2.0 BMC answers at all.
  const caps = await ex.run({
    ...common,
    what: 'Get Channel Authentication Capabilities',
    timeoutMs: left(),
    build: () =>
      encodeV15(
        buildRequest({ netFn: NetFn.app, cmd: Cmd.getChannelAuthCapabilities, rqSeq: 0, data: channelAuthCapabilitiesRequest(priv) }),
      ),
    accept: (p) => {
      const d = decodePacket(p);
      if (d.kind !== 'v15' || d.sessionId !== 0) throw new IpmiProtocolError('expected a session-less IPMI v1.5 answer');
      const res = parseResponse(d.message);
      if (res.cmd !== Cmd.getChannelAuthCapabilities || res.netFn !== (NetFn.app | 1))
        throw new IpmiProtocolError('answer to another command');
      if (res.completionCode !== 0) throw new IpmiCompletionError('Get Channel Authentication Capabilities', res.completionCode);
      return parseChannelAuthCapabilities(res.data);
    },
  });
  if (!caps.supportsIpmi20) throw new IpmiUnsupportedError('the BMC does not support IPMI v2.0 (RMCP+/lanplus)');

  let consoleSid = 0;
  while (consoleSid === 0) consoleSid = randomBytes(4).readUInt32LE();
  // Ask for the privilege explicitly: ipmi_sim echoes the request, and 0 ("highest") confuses checks (quirk 14).
  const open = await ex.run({
    ...common,
    what: 'Open Session',
    timeoutMs: left(),
    build: () =>
      encodeV20(
        PayloadType.openSessionRequest,
        rakp.buildOpenSessionRequest({
          tag: 0,
          maxPrivilege: priv,
          consoleSessionId: consoleSid,
          auth: rakp.Alg.authHmacSha1,
          integrity: rakp.Alg.integrityHmacSha1_96,
          confidentiality: rakp.Alg.confAesCbc128,
        }),
      ),
    accept: (p) => {
      const r = rakp.parseOpenSessionResponse(v20Payload(p, PayloadType.openSessionResponse));
      if (r.consoleSessionId !== consoleSid) throw new IpmiProtocolError('Open Session Response for another console session');
      if (r.status !== 0) throw new IpmiAuthError(`Open Session refused: ${rakp.describeRakpStatus(r.status)}`);
      return r;
    },
  });
  if (
    open.auth !== rakp.Alg.authHmacSha1 ||
    open.integrity !== rakp.Alg.integrityHmacSha1_96 ||
    open.confidentiality !== rakp.Alg.confAesCbc128
  ) {
    throw new IpmiUnsupportedError('the BMC negotiated other algorithms than cipher suite 3');
  }
  if (open.maxPrivilege !== 0 && open.maxPrivilege < priv)
    throw new IpmiAuthError(`the BMC grants at most privilege ${open.maxPrivilege}, ${opts.privilege} needed`);
  if (open.bmcSessionId === 0) throw new IpmiProtocolError('BMC session ID 0 is reserved');

  const rm = randomBytes(16);
  const role = priv | rakp.ROLE_NAME_ONLY;
  const rakp2 = await ex.run({
    ...common,
    what: 'RAKP 1',
    timeoutMs: left(),
    build: () =>
      encodeV20(PayloadType.rakp1, rakp.buildRakp1({ tag: 0, bmcSessionId: open.bmcSessionId, rm, role, username: opts.username })),
    accept: (p) => {
      const r = rakp.parseRakp2(v20Payload(p, PayloadType.rakp2));
      if (r.consoleSessionId !== consoleSid) throw new IpmiProtocolError('RAKP 2 for another console session');
      if (r.status !== 0) throw new IpmiAuthError(`login as '${opts.username}' refused at RAKP 2: ${rakp.describeRakpStatus(r.status)}`);
      return r;
    },
  });
  const ctx: rakp.RakpContext = {
    consoleSessionId: consoleSid,
    bmcSessionId: open.bmcSessionId,
    rm,
    rc: rakp2.rc,
    guid: rakp2.guid,
    role,
    username: opts.username,
  };
  if (!sameBytes(rakp.rakp2AuthCode(kuid, ctx), rakp2.authCode)) {
    // Tell the BMC at once so it frees the half-open session (ipmi_sim's table has 63 slots, quirk 5).
    transport.send(
      encodeV20(PayloadType.rakp3, rakp.buildRakp3({ tag: 0, status: 0x0f, bmcSessionId: open.bmcSessionId, authCode: Buffer.alloc(0) })),
    );
    throw new IpmiAuthError(`login as '${opts.username}' failed: wrong password (RAKP 2 auth code does not match)`);
  }
  const sik = rakp.sessionIntegrityKey(kuid, ctx);
  await ex.run({
    ...common,
    what: 'RAKP 3',
    timeoutMs: left(),
    build: () =>
      encodeV20(
        PayloadType.rakp3,
        rakp.buildRakp3({ tag: 0, status: 0, bmcSessionId: open.bmcSessionId, authCode: rakp.rakp3AuthCode(kuid, ctx) }),
      ),
    accept: (p) => {
      const r = rakp.parseRakp4(v20Payload(p, PayloadType.rakp4));
      if (r.consoleSessionId !== consoleSid) throw new IpmiProtocolError('RAKP 4 for another console session');
      if (r.status !== 0) throw new IpmiAuthError(`login as '${opts.username}' refused at RAKP 4: ${rakp.describeRakpStatus(r.status)}`);
      if (!sameBytes(rakp.rakp4Icv(sik, ctx), r.icv)) throw new IpmiProtocolError('RAKP 4 integrity check value mismatch');
      return r;
    },
  });
  const k2 = deriveK(sik, 2);
  const session = IpmiSession.fromLogin(
    ex,
    transport,
    opts,
    { k1: deriveK(sik, 1), aesKey: k2.subarray(0, 16) },
    consoleSid,
    open.bmcSessionId,
  );
  // RMCP+ sessions start at USER privilege (§22.18; ipmi_sim quirk 2): raise it before any control.
  try {
    await session.command('Set Session Privilege Level', NetFn.app, Cmd.setSessionPrivilegeLevel, Buffer.from([priv]), left());
  } catch (err) {
    await session.close();
    throw err;
  }
  return session;
}

function v20Payload(p: Buffer, payloadType: number): Buffer {
  const d = decodePacket(p);
  if (d.kind !== 'v20' || d.payloadType !== payloadType || d.sessionId !== 0 || d.encrypted || d.authenticated) {
    throw new IpmiProtocolError(`expected session-less RMCP+ payload 0x${payloadType.toString(16)}`);
  }
  return d.payload;
}
