/**
 * A small simulated BMC speaking our lanplus subset (cipher suite 3, one admin user, chassis power
 * with a callback): for the demo on machines without ipmi_sim, and for hostile-BMC tests, whose
 * `tamper` hook can garble, truncate, forge, drop or multiply any reply. It reuses the codecs the
 * client uses, from the other side; the client is also tested against ipmi_sim and the captures,
 * so the two cannot merely agree with each other.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { Cmd, NetFn } from '../../ipmi/commands.js';
import { deriveK, passwordKey, sameBytes } from '../../ipmi/crypto.js';
import { buildResponse, parseRequest, type IpmiRequest } from '../../ipmi/message.js';
import { PayloadType, decodePacket, encodeV15, encodeV20, openSecure, sealSecure, type SessionKeys } from '../../ipmi/packet.js';
import * as rakp from '../../ipmi/rakp.js';

export type SimStage = 'caps' | 'open' | 'rakp2' | 'rakp4' | 'ipmi';

export interface SimBmcOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  username?: string;
  password?: string;
  power?: 'on' | 'off';
  /** Called on every power change the BMC makes. */
  onPower?: (state: 'on' | 'off', op: string) => void;
  /** Hostile behaviour: replace a reply with other datagrams (none = drop it). */
  tamper?: (reply: Buffer, ctx: { stage: SimStage; request?: IpmiRequest; keys?: SessionKeys; consoleSessionId?: number }) => Buffer[];
}

interface SimSession {
  consoleSid: number;
  rm?: Buffer;
  rc?: Buffer;
  role?: number;
  keys?: SessionKeys;
  privilege: number;
  seq: number;
}

const GUID = Buffer.from('d290325377573751cd4b69f6810619d8', 'hex');

export class SimBmc {
  power: 'on' | 'off';
  /** Chassis Control requests executed, e.g. ['off', 'on']. */
  readonly history: string[] = [];
  private readonly sessions = new Map<number, SimSession>();
  private readonly username: string;
  private readonly kuid: Buffer;

  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
    private readonly opts: SimBmcOptions,
  ) {
    this.power = opts.power ?? 'on';
    this.username = opts.username ?? 'admin';
    this.kuid = passwordKey(opts.password ?? 'password');
    socket.on('message', (m, rinfo) => this.onPacket(m, rinfo));
  }

  static async start(opts: SimBmcOptions = {}): Promise<SimBmc> {
    const socket = createSocket('udp4');
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port ?? 0, host, () => resolve());
    });
    return new SimBmc(socket, host, socket.address().port, opts);
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private send(reply: Buffer, to: RemoteInfo, ctx: Parameters<NonNullable<SimBmcOptions['tamper']>>[1]): void {
    const out = this.opts.tamper ? this.opts.tamper(reply, ctx) : [reply];
    for (const p of out) this.socket.send(p, to.port, to.address);
  }

  private onPacket(m: Buffer, from: RemoteInfo): void {
    try {
      this.handle(m, from);
    } catch {
      // A real BMC silently drops what it cannot parse.
    }
  }

  private handle(m: Buffer, from: RemoteInfo): void {
    let d: ReturnType<typeof decodePacket>;
    try {
      d = decodePacket(m);
    } catch {
      return; // a real BMC silently drops what it cannot parse
    }
    if (d.kind === 'v15') {
      const req = parseRequest(d.message);
      if (req.netFn === NetFn.app && req.cmd === Cmd.getChannelAuthCapabilities) {
        const data = Buffer.from([0x01, 0x96, 0x04, 0x03, 0, 0, 0, 0]);
        this.send(encodeV15(buildResponse({ netFn: req.netFn | 1, cmd: req.cmd, rqSeq: req.rqSeq, completionCode: 0, data })), from, {
          stage: 'caps',
          request: req,
        });
      }
      return;
    }
    switch (d.payloadType) {
      case PayloadType.openSessionRequest:
        return this.openSession(d.payload, from);
      case PayloadType.rakp1:
        return this.rakp1(d.payload, from);
      case PayloadType.rakp3:
        return this.rakp3(d.payload, from);
      case PayloadType.ipmi:
        return this.ipmi(m, d.sessionId, from);
    }
  }

  private openSession(payload: Buffer, from: RemoteInfo): void {
    const r = rakp.parseOpenSessionRequest(payload);
    const ok = r.auth === 1 && r.integrity === 1 && r.confidentiality === 1;
    let bmcSid = 0;
    while (bmcSid === 0 || this.sessions.has(bmcSid)) bmcSid = randomBytes(4).readUInt32LE() & 0x7ffffffe;
    if (ok) this.sessions.set(bmcSid, { consoleSid: r.consoleSessionId, privilege: 2, seq: 0 });
    const res = rakp.buildOpenSessionResponse({
      tag: r.tag,
      status: ok ? 0 : 0x11,
      maxPrivilege: r.maxPrivilege,
      consoleSessionId: r.consoleSessionId,
      bmcSessionId: bmcSid,
      auth: 1,
      integrity: 1,
      confidentiality: 1,
    });
    this.send(encodeV20(PayloadType.openSessionResponse, res), from, { stage: 'open' });
  }

  private rakp1(payload: Buffer, from: RemoteInfo): void {
    const r = rakp.parseRakp1(payload);
    const s = this.sessions.get(r.bmcSessionId);
    if (!s) return;
    if (r.username !== this.username) {
      this.sessions.delete(r.bmcSessionId);
      const res = rakp.buildRakp2({
        tag: r.tag,
        status: 0x0d,
        consoleSessionId: s.consoleSid,
        rc: Buffer.alloc(0),
        guid: Buffer.alloc(0),
        authCode: Buffer.alloc(0),
      });
      return this.send(encodeV20(PayloadType.rakp2, res), from, { stage: 'rakp2' });
    }
    Object.assign(s, { rm: r.rm, rc: randomBytes(16), role: r.role });
    const ctx = this.ctx(s, r.bmcSessionId);
    const res = rakp.buildRakp2({
      tag: r.tag,
      status: 0,
      consoleSessionId: s.consoleSid,
      rc: s.rc!,
      guid: GUID,
      authCode: rakp.rakp2AuthCode(this.kuid, ctx),
    });
    this.send(encodeV20(PayloadType.rakp2, res), from, { stage: 'rakp2' });
  }

  private rakp3(payload: Buffer, from: RemoteInfo): void {
    const r = rakp.parseRakp3(payload);
    const s = this.sessions.get(r.bmcSessionId);
    if (!s || !s.rc) return;
    if (r.status !== 0) {
      this.sessions.delete(r.bmcSessionId);
      return;
    }
    const ctx = this.ctx(s, r.bmcSessionId);
    if (!sameBytes(rakp.rakp3AuthCode(this.kuid, ctx), r.authCode)) {
      this.sessions.delete(r.bmcSessionId);
      const res = rakp.buildRakp4({ tag: r.tag, status: 0x0f, consoleSessionId: s.consoleSid, icv: Buffer.alloc(0) });
      return this.send(encodeV20(PayloadType.rakp4, res), from, { stage: 'rakp4' });
    }
    const sik = rakp.sessionIntegrityKey(this.kuid, ctx);
    s.keys = { k1: deriveK(sik, 1), aesKey: deriveK(sik, 2).subarray(0, 16) };
    const res = rakp.buildRakp4({ tag: r.tag, status: 0, consoleSessionId: s.consoleSid, icv: rakp.rakp4Icv(sik, ctx) });
    this.send(encodeV20(PayloadType.rakp4, res), from, { stage: 'rakp4', keys: s.keys, consoleSessionId: s.consoleSid });
  }

  private ipmi(m: Buffer, bmcSid: number, from: RemoteInfo): void {
    const s = this.sessions.get(bmcSid);
    if (!s?.keys) return;
    let req: IpmiRequest;
    try {
      req = parseRequest(openSecure(s.keys, m).message);
    } catch {
      return;
    }
    const [cc, data] = this.execute(req, s, bmcSid);
    const reply = sealSecure(
      s.keys,
      s.consoleSid,
      ++s.seq,
      buildResponse({ netFn: req.netFn | 1, cmd: req.cmd, rqSeq: req.rqSeq, completionCode: cc, data }),
    );
    this.send(reply, from, { stage: 'ipmi', request: req, keys: s.keys, consoleSessionId: s.consoleSid });
  }

  private execute(req: IpmiRequest, s: SimSession, bmcSid: number): [number, Buffer] {
    const none = Buffer.alloc(0);
    if (req.netFn === NetFn.app && req.cmd === Cmd.setSessionPrivilegeLevel) {
      const want = req.data[0] ?? 0;
      if (want > ((s.role ?? 0) & 0x0f)) return [0x80, none];
      s.privilege = want;
      return [0, Buffer.from([want])];
    }
    if (req.netFn === NetFn.app && req.cmd === Cmd.closeSession) {
      this.sessions.delete(bmcSid);
      return [0, none];
    }
    if (req.netFn === NetFn.chassis && req.cmd === Cmd.getChassisStatus) return [0, Buffer.from([this.power === 'on' ? 1 : 0, 0, 0])];
    if (req.netFn === NetFn.chassis && req.cmd === Cmd.chassisControl) {
      if (s.privilege < 3) return [0xd4, none];
      const op = ['off', 'on', 'cycle', 'reset', 'diag', 'soft'][req.data[0] ?? 9];
      if (!op || op === 'diag') return [0xcc, none];
      this.history.push(op);
      if (op === 'off' || op === 'soft') this.setPower('off', op);
      else if (op === 'on') this.setPower('on', op);
      else {
        this.setPower('off', op);
        this.setPower('on', op);
      }
      return [0, none];
    }
    return [0xc1, none];
  }

  private setPower(state: 'on' | 'off', op: string): void {
    this.power = state;
    this.opts.onPower?.(state, op);
  }

  private ctx(s: SimSession, bmcSid: number): rakp.RakpContext {
    return {
      consoleSessionId: s.consoleSid,
      bmcSessionId: bmcSid,
      rm: s.rm!,
      rc: s.rc!,
      guid: GUID,
      role: s.role!,
      username: this.username,
    };
  }
}
