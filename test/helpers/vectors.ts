import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CaptureFrame {
  n: number;
  dir: 'rq' | 'rs';
  raw: Buffer;
  plaintext?: Buffer;
}

export interface Capture {
  username: string;
  password: string;
  keys: { SIK?: Buffer; K1?: Buffer; K2?: Buffer };
  frames: CaptureFrame[];
}

/** A capture of ipmitool ↔ ipmi_sim (cipher suite 3), from test/fixtures/ipmi (see extract.py there). */
export function loadCapture(name: 'c3-chassis-power-off' | 'c3-chassis-power-status' | 'c3-wrong-password'): Capture {
  const path = fileURLToPath(new URL(`../fixtures/ipmi/${name}.json`, import.meta.url));
  const j = JSON.parse(readFileSync(path, 'utf8')) as {
    username: string;
    password: string;
    keys: Record<string, string>;
    frames: Array<{ n: number; dir: 'rq' | 'rs'; raw: string; plaintext?: string }>;
  };
  const hex = (s: string | undefined): Buffer | undefined => (s === undefined ? undefined : Buffer.from(s, 'hex'));
  return {
    username: j.username,
    password: j.password,
    keys: { SIK: hex(j.keys.SIK), K1: hex(j.keys.K1), K2: hex(j.keys.K2) },
    frames: j.frames.map((f) => ({ n: f.n, dir: f.dir, raw: Buffer.from(f.raw, 'hex'), plaintext: hex(f.plaintext) })),
  };
}
