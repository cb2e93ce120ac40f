import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { formatHostPort } from '../../config/address.js';
import { loadConfig } from '../../config/load.js';
import { MAX_SECRET_FILE_BYTES, readTextFile } from '../../config/safe-file.js';
import { readMonitorConfig } from '../../daemon/monitor-config.js';
import { DEFAULT_STATUS_API_LISTEN } from '../../config/ops-config.js';
import { HISTORY_FILE, type JournalEntry } from '../../status-api/event-journal.js';
import { parseSince, readHistory } from '../../status-api/history-file.js';
import { describeEvent } from '../../status-api/describe-event.js';
import { UsageError, parse } from '../args.js';
import type { Io } from '../command.js';

const DEFAULT_STATE_DIR = '/var/lib/instance-ha';

export const HISTORY_HELP = `Usage: instance-ha history [HOST] [--since DURATION|ISO] [--config FILE | --url URL | --state-dir DIR] [--json]

The monitor's journal of decisions, oldest first: every detection, quorum change, fence attempt,
recovery step and notification it recorded, with wall-clock times. Read from the monitor's status
API, or straight from <state_dir>/history.jsonl when the monitor is down (or with --state-dir).
Without --config/--url/--state-dir: http://127.0.0.1:7411, then /var/lib/instance-ha.

Options
  HOST                  only events about this host (and mass-failure holds naming it)
  --since D             only the last D (90s, 15m, 2h, 3d) or since an ISO time
  --config FILE         monitor config: finds the status API (and state_dir as a fallback)
  --url URL             status API base URL, e.g. http://127.0.0.1:7411
  --token-file FILE     bearer token for a status API not on loopback
  --state-dir DIR       read the history file directly
  --json                one JSON entry per line

Examples
  instance-ha history --config /etc/instance-ha/monitor.yaml
  instance-ha history cmp-17 --since 2h --config /etc/instance-ha/monitor.yaml
  instance-ha history --state-dir /var/lib/instance-ha --since 2026-11-21T03:00:00Z --json
`;

export async function runHistoryCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    since: { type: 'string' },
    config: { type: 'string', short: 'c' },
    url: { type: 'string' },
    'token-file': { type: 'string' },
    'state-dir': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(HISTORY_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(HISTORY_HELP);
  const host = positionals[0];
  const sinceMs = values.since ? parseSince(values.since, Date.now()) : undefined;
  if (values.since && sinceMs === undefined) {
    throw new UsageError(`--since must be a duration (90s, 15m, 2h, 3d) or an ISO time, got '${values.since}'`);
  }

  let entries: JournalEntry[] | null = null;
  let stateDir = values['state-dir'];
  let url = values.url;
  let token: string | undefined;
  let ca: string | undefined;
  if (values['token-file']) {
    // Like every secret file: a regular file (a FIFO would block), bounded, UTF-8.
    const res = readTextFile(values['token-file'], MAX_SECRET_FILE_BYTES);
    if (!res.ok) throw new UsageError(`--token-file: ${res.reason}`);
    token = res.text.trim();
  }
  if (values.config) {
    const cfg = loadConfig(values.config, readMonitorConfig);
    stateDir ??= cfg.stateDir;
    if (cfg.ops.statusApi.enabled) url ??= `${cfg.ops.statusApi.tls ? 'https' : 'http'}://${formatHostPort(cfg.ops.statusApi.listen)}`;
    // The monitor's own certificate is trusted for its own API (it may well be self-signed).
    ca = cfg.ops.statusApi.tls?.cert;
    token ??= cfg.ops.statusApi.token ?? undefined;
  }
  if (!url && !stateDir) {
    // Nothing said: the defaults of a packaged install (status API on loopback, then the state dir).
    url = `http://${DEFAULT_STATUS_API_LISTEN}`;
    stateDir = DEFAULT_STATE_DIR;
  }
  if (url && !values['state-dir']) {
    const q = new URLSearchParams();
    if (host) q.set('host', host);
    if (values.since) q.set('since', values.since);
    // The API's largest page (its default is smaller, for dashboards): the newest entries are kept.
    q.set('limit', '10000');
    try {
      const body = (await getJson(`${url.replace(/\/$/, '')}/api/history?${q.toString()}`, token, ca)) as { entries: JournalEntry[] };
      entries = body.entries;
    } catch (err) {
      if (!stateDir) {
        io.err(`cannot read the history from ${url}: ${(err as Error).message}`);
        return 2;
      }
      io.err(`status API unreachable (${(err as Error).message}); reading ${stateDir}/history.jsonl`);
    }
  }
  if (!entries && !existsSync(join(stateDir!, HISTORY_FILE))) {
    io.err(`no history at ${join(stateDir!, HISTORY_FILE)} (no monitor has run with this state_dir)`);
    return 2;
  }
  entries ??= readHistory(stateDir!, { ...(host ? { host } : {}), ...(sinceMs !== undefined ? { sinceMs } : {}) });
  if (values.json) {
    for (const e of entries) io.out(JSON.stringify(e));
    return 0;
  }
  if (entries.length === 0) {
    io.out(`no events${host ? ` for ${host}` : ''}${values.since ? ` since ${values.since}` : ''}`);
    return 0;
  }
  for (const e of entries) io.out(`${e.time}  ${e.monitor.padEnd(8)} ${e.event.type.padEnd(28)} ${describeEvent(e.event)}`);
  return 0;
}

function getJson(url: string, token: string | undefined, ca: string | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const opts = { timeout: 5000, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(ca ? { ca } : {}) };
    const req = (url.startsWith('https:') ? httpsRequest : request)(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
