/**
 * Runs a ClusterLabs fence agent as a subprocess: options as `key=value` lines on stdin only
 * (never argv or environment, which other local users can read in /proc), a per-action timeout
 * that kills the agent's whole process group (SIGTERM, then SIGKILL), and the exit code mapped to
 * a typed outcome. Output is kept redacted; a secret never reaches a log.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../log.js';
import { excerpt, redact } from './redact.js';
import { timerMs } from '../timer-limit.js';

export type AgentOutcome =
  /** Exit 0: done (for status: power is ON). */
  | 'ok'
  /** Exit 2 on status: power is OFF (ClusterLabs API). */
  | 'off'
  | 'failed'
  | 'timeout'
  | 'spawn_error';

export interface AgentRunRequest {
  /** Absolute path of the agent executable. */
  path: string;
  action: string;
  /** Options without `action`; values must be single-line. */
  options: Readonly<Record<string, string>>;
  /** Values to scrub from anything kept (passwords). */
  secrets: readonly string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface AgentRunResult {
  outcome: AgentOutcome;
  exitCode: number | null;
  durationMs: number;
  /** Redacted, at most the last 64 KiB (metadata XML fits). */
  stdout: string;
  /** Redacted excerpt for records and logs. */
  stderr: string;
}

const KILL_GRACE_MS = 2000;
const KEEP_BYTES = 64 * 1024;

/** The environment an agent gets: enough to find its tools, nothing of ours (no secrets). */
function agentEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
}

export function stdinFor(action: string, options: Readonly<Record<string, string>>): string {
  const lines = [`action=${action}`];
  for (const [k, v] of Object.entries(options)) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v) || k.includes('='))
      throw new Error(`fence option '${k.replace(/[\r\n]/g, ' ')}' contains a newline or '='`);
    lines.push(`${k}=${v}`);
  }
  return lines.join('\n') + '\n';
}

export function runAgentProcess(req: AgentRunRequest, log: Logger): Promise<AgentRunResult> {
  const started = Date.now();
  let input: string;
  try {
    input = stdinFor(req.action, req.options);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (outcome: AgentOutcome | null, exitCode: number | null): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      req.signal?.removeEventListener('abort', onAbort);
      const o: AgentOutcome =
        outcome ?? (timedOut ? 'timeout' : exitCode === 0 ? 'ok' : exitCode === 2 && req.action === 'status' ? 'off' : 'failed');
      resolve({
        outcome: o,
        exitCode,
        durationMs: Date.now() - started,
        stdout: redact(stdout, req.secrets),
        stderr: excerpt(stderr, req.secrets),
      });
    };
    let child: ReturnType<typeof spawn>;
    try {
      // detached: the agent leads a new process group, so a timeout kills its helpers (ipmitool, ssh…) too.
      child = spawn(req.path, [], { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: agentEnv() });
    } catch (err) {
      stderr = String(err);
      return finish('spawn_error', null);
    }
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const stop = (why: string): void => {
      if (timedOut) return;
      timedOut = true;
      log.warn({ agent: req.path, action: req.action, why }, 'fence agent stopped');
      killGroup('SIGTERM');
      timers.push(setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS));
      // If a grandchild escaped the group and holds the pipes open, do not wait on it forever.
      timers.push(setTimeout(() => finish('timeout', null), KILL_GRACE_MS + 1000));
    };
    const onAbort = (): void => stop('aborted');
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (req.signal?.aborted) stop('aborted');
    timers.push(setTimeout(() => stop(`timeout after ${req.timeoutMs}ms`), timerMs(req.timeoutMs)));
    child.stdout!.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-KEEP_BYTES)));
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-KEEP_BYTES)));
    child.on('error', (err) => {
      stderr += redact(String(err), req.secrets);
      finish('spawn_error', null);
    });
    child.on('close', (code) => finish(null, code));
    child.stdin!.on('error', () => {}); // an agent may exit without reading stdin
    child.stdin!.end(input);
  });
}
