// instance-ha dashboard: plain JS, no build. Reads the monitor's read-only status API:
// /api/status every second, /api/history once, then /api/events as a long poll for live updates.
// Everything is rendered with textContent (never innerHTML): host names and messages are data.
// Nothing is shown as raw JSON: every record is put in words.

const token = (() => {
  const m = /token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('iha-token', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem('iha-token');
})();

/** Tiles drawn at most; the API lists the not-up hosts first when it caps its own list. */
const MAX_TILES = 200;
/** Incidents drawn at most, newest first. */
const MAX_INCIDENTS = 50;

async function api(path) {
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const age = (ms) => (ms === null || ms === undefined ? 'never' : ms < 10000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`);
const sec = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
const num = (n) => n.toLocaleString('en-US');
// Times in UTC with their zone, as `instance-ha status` and `history` print them.
const clock = (ms) => new Date(ms).toISOString().slice(11, 19) + 'Z';
const dateTime = (ms) => new Date(ms).toISOString().slice(0, 10) + ' ' + clock(ms);

// ---- words for records ----------------------------------------------------------------------

function agentLabel(agent) {
  const a = (agent ?? '').split('/').pop();
  return a === 'native-ipmi' ? 'native IPMI' : a || 'no agent';
}

/** "powered off by mon1 through bmc-compute-3 (native IPMI), verified in 63 ms" */
function describeFence(r) {
  if (!r || typeof r !== 'object') return '';
  // An operator's confirm-fenced: no device was asked, a person attested the host is off.
  if (r.confirmedBy) return `confirmed off by operator ${r.confirmedBy} (no fence device answered)`;
  const last = Array.isArray(r.attempts) && r.attempts.length ? r.attempts[r.attempts.length - 1] : null;
  const device = (Array.isArray(r.devices) && r.devices.length ? r.devices.join(' + ') : last?.device) ?? 'its fence device';
  const agent = agentLabel(r.agent ?? last?.agent);
  const by = r.by ? ` by ${r.by}` : '';
  if (r.ok)
    return `powered off${by} through ${device} (${agent})${r.level > 1 ? `, level ${r.level}` : ''}, verified in ${sec(r.durationMs ?? 0)}`;
  const why = r.error ?? last?.detail ?? (last ? `exit ${last.exitCode ?? 'none (timed out)'}` : 'no device answered');
  return `NOT powered off${by} through ${device} (${agent}) after ${sec(r.durationMs ?? 0)}: ${why}`;
}

function serverName(s) {
  return s && typeof s === 'object' ? s.name || s.id : 'a server';
}

/** One event in a sentence. */
function describe(e) {
  switch (e.type) {
    case 'host.suspect':
      return `silent for ${sec(e.silentMs ?? 0)}: a quorum of monitors stopped hearing it`;
    case 'host.failed':
      return `declared failed by ${(e.votes ?? []).join(', ') || 'the quorum'}${e.lastHeardAt ? `; last heard ${clock(e.lastHeardAt)}` : ''}${e.powerReadOffAt ? `; its fence devices read power OFF at ${clock(e.powerReadOffAt)}` : ''}`;
    case 'host.fencing':
      return `powering off (attempt ${e.attempt})`;
    case 'host.fenced':
      return describeFence(e.record);
    case 'host.fence_failed':
      return `${describeFence(e.record)}; retry in ${sec(e.retryInMs ?? 0)}`;
    case 'host.forced_down':
      return `Nova: nova-compute forced down${e.disabledReason ? ` and disabled ("${e.disabledReason}")` : ''}`;
    case 'host.recovery_start':
      return 'recovery started: force-down, then evacuations';
    case 'host.recovery_end': {
      const s = e.summary ?? {};
      const counts = `${s.selected ?? 0} selected, ${s.evacuated ?? 0} evacuated, ${s.failed ?? 0} failed, ${s.notified ?? 0} notified`;
      return `recovery done: ${counts}${s.error ? `; error: ${s.error}` : ''}`;
    }
    case 'host.rejoined':
      return `back in service${e.previous ? ` (was ${e.previous})` : ''}`;
    case 'instance.evacuate_start':
      return `${serverName(e.server)}: evacuate requested (attempt ${e.attempt})`;
    case 'instance.evacuate_end':
      return `${serverName(e.server)}: ACTIVE on ${e.targetHost} after ${sec(e.durationMs ?? 0)}`;
    case 'instance.evacuate_error':
      return `${serverName(e.server)}: ${e.reason}${e.final ? ' — given up' : '; retrying'}`;
    case 'instance.not_selected':
      return `${serverName(e.server)}: not evacuated (${e.reason}); its owner is notified`;
    case 'instance.guest_failed': {
      const what = e.recovery === 'restart' ? 'restarting (hard reboot)' : e.recovery;
      return `guest ${e.instance}: libvirt ${e.event} ${e.detail}${e.action ? ` [${e.action}]` : ''}; ${what}`;
    }
    case 'instance.guest_restarted':
      return `guest ${e.instance}: restart ${e.outcome} (${e.reason})`;
    default: {
      // A newer event type: its plain fields in words, never a JSON dump.
      const parts = [];
      for (const [k, v] of Object.entries(e)) {
        if (['type', 'at', 'host'].includes(k) || v === null || v === undefined) continue;
        if (['string', 'number', 'boolean'].includes(typeof v)) parts.push(`${k} ${v}`);
        else if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) parts.push(`${k} ${v.join(', ')}`);
      }
      return parts.join(' · ');
    }
  }
}

/** What an operator should do next, for a host in a state that needs one (null: nothing to do). */
function nextStep(h) {
  switch (h.state) {
    case 'fenced':
      return (
        'Powered off (its instances are evacuated when recovery is configured). Next: repair the host, then instance-ha unfence ' +
        h.host +
        ' --power-on'
      );
    case 'recovering':
      return 'Instances are being evacuated; wait for "evacuated".';
    case 'evacuated':
      return 'Powered off, instances moved. Next: repair the host, then instance-ha unfence ' + h.host + ' --power-on';
    case 'fence_failed':
      return `Instances NOT recovered. Next: check its BMC (instance-ha fence ${h.host} --action status), power it off by hand if needed`;
    case 'failed':
      return 'Declared failed; fencing starts now.';
    case 'maintenance':
      return 'In maintenance: never fenced. Next: instance-ha maintenance ' + h.host + ' off';
    case 'left':
      return 'Beacon stopped cleanly: never fenced for it, its instances are NOT protected. Next: start the beacon again (a new boot brings it back)';
    default:
      return h.state === 'up' || h.state === 'suspect' || h.state === 'fencing'
        ? null
        : `State ${h.state}: see instance-ha status --host ${h.host}`;
  }
}

// ---- status -------------------------------------------------------------------------------

let firstStatus = true;

function renderStatus(s) {
  if (firstStatus) {
    firstStatus = false;
    document.body.classList.remove('loading');
    document.getElementById('loading')?.remove();
  }
  const code = !s.cluster.quorate ? 2 : s.alarms.length ? 1 : 0;
  const v = document.getElementById('verdict');
  v.className = `verdict ${['healthy', 'degraded', 'noquorum'][code]}`;
  v.dataset.code = String(code);
  v.textContent = ['HEALTHY', 'DEGRADED', 'NO QUORUM'][code];
  document.getElementById('updated').textContent = `monitor ${s.monitor.id} · v${s.monitor.version} · as of ${clock(Date.now())}`;
  const c = s.cluster;
  document.getElementById('quorum').textContent =
    `quorum: ${c.votes} of ${c.expectedVotes} monitors, ${c.needed} needed${c.quorate ? '' : ' (NOT MET)'} · coordinator ${c.coordinator ?? 'none'}`;
  const mons = document.getElementById('monitors');
  mons.replaceChildren(
    ...c.members.map((m) => {
      const li = el(
        'li',
        `${m.live ? 'live' : 'down'}${m.id === c.coordinator ? ' coordinator' : ''}`,
        `${m.id}${m.self ? ' (this)' : ''} ${m.address} · ${m.live ? 'live' : 'unreachable'}${m.id === c.coordinator ? ' ★' : ''}`,
      );
      li.dataset.monitor = m.id;
      return li;
    }),
  );
  const alarms = document.getElementById('alarms');
  alarms.replaceChildren(
    ...(s.alarms.length
      ? s.alarms.slice(0, 20).map((a) => {
          const li = el('li', 'alarm', `${a.kind}: ${a.message}`);
          li.dataset.kind = a.kind;
          return li;
        })
      : [el('li', 'muted', 'none')]),
    ...(s.alarms.length > 20 ? [el('li', 'muted', `… and ${num(s.alarms.length - 20)} more (instance-ha status)`)] : []),
  );
  renderHosts(s);
  renderGuests(s);
  // Fence and recovery steps are recorded where they run: on the coordinator. Say so on the others.
  const where = document.getElementById('timeline-where');
  where.textContent =
    c.acting || !c.coordinator
      ? ''
      : `This monitor (${s.monitor.id}) is not the coordinator: the fence and recovery steps are recorded by ${c.coordinator}; open its dashboard for them.`;
}

// Guest OS failures inside live hosts (crash, watchdog, I/O error) and what was done about each.
function renderGuests(s) {
  const g = s.guests;
  const list = document.getElementById('guests');
  if (!g) {
    document.getElementById('guest-counts').textContent = '';
    list.replaceChildren(el('li', 'muted', 'none reported'));
    return;
  }
  document.getElementById('guest-counts').textContent =
    `${num(g.failures)} · ${num(g.restarted)} restarted · ${num(g.restartFailed)} restart failed · ${num(g.budgetExhausted)} past budget` +
    (g.dropped ? ` · ${num(g.dropped)} dropped by rate limits` : '');
  list.replaceChildren(
    ...[...g.recent].reverse().map((r) => {
      const done = r.recovery === 'restart' ? `restart: ${r.outcome ?? 'in progress'}${r.reason ? ` (${r.reason})` : ''}` : r.recovery;
      const li = el(
        'li',
        r.outcome === 'failed' || r.recovery === 'budget_exhausted' ? 'alarm' : '',
        `${r.at.slice(11, 19)}Z ${r.host} · ${r.instance} (${r.domain}) · ${r.event} ${r.detail}${r.action ? ` [${r.action}]` : ''} · ${done}`,
      );
      li.dataset.instance = r.instance;
      return li;
    }),
  );
}

function renderHosts(s) {
  const counts = s.hostCounts ?? {};
  if (!s.hostCounts) for (const h of s.hosts) counts[h.state] = (counts[h.state] ?? 0) + 1;
  const total = s.hostsTotal ?? s.hosts.length;
  document.getElementById('host-counts').textContent =
    `${num(total)} · ` +
    Object.entries(counts)
      .map(([k, n]) => `${num(n)} ${k}`)
      .join(' · ');
  // Not-up first, so a bounded grid always shows the hosts that need someone.
  const ordered = [...s.hosts.filter((h) => h.state !== 'up'), ...s.hosts.filter((h) => h.state === 'up')];
  const shown = ordered.slice(0, MAX_TILES);
  const grid = document.getElementById('hosts');
  grid.replaceChildren(
    ...shown.map((h) => {
      const d = el('div', `host s-${h.state}`);
      d.dataset.host = h.host;
      d.dataset.state = h.state;
      d.append(el('div', 'name', h.host), el('div', 'state', h.state + (h.maintenance ? ' (maint)' : '')));
      let detail = `heard ${age(h.lastHeartbeatAgeMs)} ago · loss ${h.lossPct}%`;
      if (h.state === 'suspect') detail = `silent ${age(h.lastHeartbeatAgeMs)} · dead after ${age(h.deadAfterMs)}`;
      if (h.state === 'fencing') detail = 'powering off…';
      if (h.fence && typeof h.fence === 'object') detail = describeFence(h.fence);
      else if (h.state === 'fence_failed') {
        // The decision keeps a record only for a success; a failure's record is in its event.
        const failedRecord = lastEventOf(h.host, 'host.fence_failed')?.record;
        detail = failedRecord ? `${describeFence(failedRecord)}; retrying` : 'could not be powered off: retrying';
      }
      if (h.state === 'recovery_failed') detail = 'servers NOT running elsewhere: see alarms; instance-ha recover ' + h.host;
      const r = h.recovery;
      if (r && typeof r === 'object') detail += ` · evacuated ${r.evacuated ?? 0} of ${r.selected ?? 0}`;
      // nova-compute dead on a live host: its service disabled, never fenced.
      if (h.computeDown) {
        d.classList.add('compute-down');
        const by = h.computeDown.service === 'disabled' ? ', service disabled by instance-ha' : '';
        detail += ` · nova-compute down since ${h.computeDown.since.slice(11, 19)}Z${by}`;
      }
      const det = el('div', 'detail', detail);
      det.dataset.role = 'detail';
      d.append(det);
      const next = nextStep(h);
      if (next) {
        const n = el('div', 'next', next);
        n.dataset.role = 'next';
        d.append(n);
      }
      d.title = `${h.host}: ${h.state}; this monitor sees it ${h.localLevel}; beacon said nova-compute ${h.novaCompute}`;
      return d;
    }),
  );
  const more = document.getElementById('hosts-more');
  const hidden = total - shown.length;
  more.textContent =
    hidden > 0
      ? `showing ${num(shown.length)} of ${num(total)} hosts (not-up first); the rest: instance-ha status --state STATE, or /api/hosts?state=STATE`
      : '';
}

async function refreshStatus() {
  try {
    renderStatus(await api('/api/status'));
  } catch (err) {
    const v = document.getElementById('verdict');
    v.className = 'verdict unreachable';
    v.dataset.code = '2';
    v.textContent = /HTTP 401/.test(err.message)
      ? 'UNAUTHORIZED: open this page as …/#token=<status API token>'
      : `UNREACHABLE (${err.message})`;
  }
}

async function pollStatus() {
  await refreshStatus();
  // Open incidents grow with time; finished ones are redrawn only when an event arrives.
  if ([...incidents.values()].some((list) => list.some((i) => !i.done))) renderIncidents();
  setTimeout(pollStatus, 1000);
}

// ---- incidents ----------------------------------------------------------------------------

// Phase of an event type: known types by name, future ones by prefix.
function phase(type) {
  if (type === 'host.suspect' || type === 'host.failed') return 'detect';
  if (type.startsWith('host.fenc')) return 'fence';
  if (type === 'host.forced_down' || /force.?down|disable/.test(type)) return 'force-down';
  if (type.startsWith('instance.')) return 'evacuate';
  if (type.startsWith('notification')) return 'notify';
  if (type.startsWith('host.recover') || type === 'host.rejoined') return 'recover';
  return type.split('.')[0];
}
const BAD = /failed|error|not_selected/;
const GOOD = /fenced$|forced_down|evacuate_end|evacuated|rejoined|recovery_end|confirmed|published/;

const incidents = new Map(); // host -> [{ start, events: [], done }]
const seen = new Set();

/** The host's latest event of a type, from the incidents (history and live). */
function lastEventOf(host, type) {
  const list = incidents.get(host) ?? [];
  for (let i = list.length - 1; i >= 0; i--)
    for (let j = list[i].events.length - 1; j >= 0; j--) if (list[i].events[j].e.type === type) return list[i].events[j].e;
  return null;
}

/** History and live events go through here alike, so a reload and the live view draw the same rows. */
function addEntry(entry) {
  const key = `${entry.monitor}|${entry.seq}|${entry.time}`;
  if (seen.has(key)) return false;
  seen.add(key);
  const e = entry.event;
  // A clean stop (host.left) and its return are not a failure: no incident on the timeline.
  const cleanStop = e.type === 'host.left' || (e.type === 'host.rejoined' && e.previous === 'left');
  if (typeof e.host !== 'string' || e.type === 'host.maintenance' || cleanStop) return false;
  const t = Date.parse(entry.time);
  let list = incidents.get(e.host);
  if (!list) incidents.set(e.host, (list = []));
  let cur = list[list.length - 1];
  // A failure after the last one ended starts a new incident; the rest joins the host's latest one.
  const starts = e.type === 'host.suspect' || e.type === 'host.failed';
  if (!cur || (starts && cur.done)) {
    cur = { host: e.host, start: t, events: [], done: false };
    list.push(cur);
  }
  cur.events.push({ t, time: entry.time, e });
  // History is read oldest first but live answers may interleave with it: keep each incident in time order.
  cur.events.sort((a, b) => a.t - b.t);
  if (e.type === 'host.rejoined' || e.type === 'host.recovery_end') cur.done = true;
  return true;
}

/** Axis ticks: the first step from the list giving at most 8 ticks over the span. */
function tickStep(spanMs) {
  for (const s of [100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 1800000, 3600000])
    if (spanMs / s <= 8) return s;
  return 7200000;
}

/**
 * Lanes of one incident on a shared time axis: detection, each fence attempt, force-down, one bar
 * per server from its evacuation request to ACTIVE (or its failure), notifications, the recovery.
 */
function lanesOf(inc, now) {
  const last = inc.events[inc.events.length - 1];
  // The axis runs to now only while something is in progress; a finished (or stuck) incident ends at its last event.
  const live = lanesTo(inc, inc.done ? last.t : Math.max(last.t, now));
  return live.lanes.some((l) => l.bars.some((b) => b.kind === 'open')) ? live : lanesTo(inc, last.t);
}

function lanesTo(inc, end) {
  const evs = inc.events;
  const first = (type) => evs.find((x) => x.e.type === type);
  const lanes = [];
  const suspect = first('host.suspect');
  const failed = first('host.failed');
  if (suspect || failed)
    lanes.push({
      lane: 'detect',
      label: 'detection',
      bars: [
        {
          from: (suspect ?? failed).t,
          to: failed ? failed.t : end,
          kind: failed ? 'bad' : 'open',
          text: failed ? `declared failed after ${sec(failed.t - (suspect ?? failed).t)}` : 'suspect…',
        },
      ],
    });
  const fence = [];
  let opened = null;
  for (const x of evs) {
    if (x.e.type === 'host.fencing') opened = x.t;
    if (x.e.type === 'host.fenced' || x.e.type === 'host.fence_failed') {
      const ok = x.e.type === 'host.fenced';
      const took = sec(x.e.record?.durationMs ?? x.t - (opened ?? x.t));
      fence.push({
        from: opened ?? x.t,
        to: x.t,
        kind: ok ? 'good' : 'bad',
        text: ok ? `fenced in ${took}` : `fence failed after ${took}`,
      });
      opened = null;
    }
  }
  if (opened !== null) fence.push({ from: opened, to: end, kind: 'open', text: 'powering off…' });
  if (fence.length) lanes.push({ lane: 'fence', label: 'fence', bars: fence });
  const forced = first('host.forced_down');
  const started = first('host.recovery_start');
  if (forced)
    lanes.push({
      lane: 'force-down',
      label: 'force-down',
      bars: [{ from: (started ?? forced).t, to: forced.t, kind: 'good', text: 'forced down in Nova' }],
    });
  const servers = new Map();
  for (const x of evs) {
    if (!x.e.type.startsWith('instance.') || !x.e.server) continue;
    const id = x.e.server.id ?? x.e.server.name;
    let s = servers.get(id);
    if (!s) servers.set(id, (s = { name: serverName(x.e.server), from: x.t, to: null, kind: 'open', text: 'evacuating…' }));
    if (x.e.type === 'instance.evacuate_end') Object.assign(s, { to: x.t, kind: 'good', text: `ACTIVE on ${x.e.targetHost}` });
    if (x.e.type === 'instance.evacuate_error' && x.e.final) Object.assign(s, { to: x.t, kind: 'bad', text: `failed: ${x.e.reason}` });
    if (x.e.type === 'instance.not_selected') Object.assign(s, { to: x.t, kind: 'note', text: `notified: ${x.e.reason}` });
  }
  for (const [id, s] of servers)
    lanes.push({ lane: `server:${id}`, label: s.name, bars: [{ from: s.from, to: s.to ?? end, kind: s.kind, text: s.text }] });
  const finished = first('host.recovery_end');
  if (started)
    lanes.push({
      lane: 'recovery',
      label: 'recovery',
      bars: [
        {
          from: started.t,
          to: finished ? finished.t : end,
          kind: finished ? (finished.e.summary?.failed ? 'bad' : 'good') : 'open',
          text: finished ? 'recovery done' : 'recovering…',
        },
      ],
    });
  return { lanes, end };
}

function renderTimeline(inc, now) {
  const { lanes, end } = lanesOf(inc, now);
  const span = Math.max(1000, end - inc.start);
  const pct = (t) => `${(((t - inc.start) / span) * 100).toFixed(2)}%`;
  const box = el('div', 'timeline');
  box.dataset.host = inc.host;
  box.dataset.spanMs = String(Math.round(span));
  const axis = el('div', 'axis');
  const step = tickStep(span);
  for (let t = 0; t <= span; t += step) {
    const tick = el('span', 'tick', `+${t < 1000 ? `${t} ms` : `${t / 1000} s`}`);
    tick.style.left = pct(inc.start + t);
    axis.append(tick);
  }
  box.append(el('div', 'lane-label', ''), axis);
  for (const l of lanes) {
    const label = el('div', 'lane-label', l.label);
    const track = el('div', 'track');
    track.dataset.lane = l.lane;
    for (const b of l.bars) {
      const bar = el('div', `bar ${b.kind}`);
      bar.dataset.kind = b.kind;
      bar.dataset.fromMs = String(Math.round(b.from - inc.start));
      bar.dataset.toMs = String(Math.round(b.to - inc.start));
      bar.style.left = pct(b.from);
      bar.style.width = `max(3px, ${(((b.to - b.from) / span) * 100).toFixed(2)}%)`;
      bar.title = `${l.label}: ${b.text} (+${sec(b.from - inc.start)} → +${sec(b.to - inc.start)})`;
      const text = el('span', 'bar-text', b.text);
      text.style.left = pct(b.from);
      track.append(bar, text);
    }
    box.append(label, track);
  }
  return box;
}

function renderIncidents() {
  const all = [...incidents.values()].flat().filter((i) => i.events.some((x) => x.e.type !== 'host.rejoined' || i.events.length > 1));
  all.sort((a, b) => b.start - a.start);
  const box = document.getElementById('incidents');
  if (all.length === 0) {
    const text = historyLoaded ? 'no failures recorded' : 'loading the history…';
    if (box.textContent !== text) box.replaceChildren(el('p', 'muted empty', text));
    return;
  }
  const now = Date.now();
  box.replaceChildren(
    ...all.slice(0, MAX_INCIDENTS).map((i) => {
      const d = el('div', `incident${i.done ? ' done' : ''}`);
      d.dataset.host = i.host;
      const last = i.events[i.events.length - 1];
      d.append(el('h3', '', `${i.host} — ${dateTime(i.start)} — ${last.e.type} after ${sec(last.t - i.start)}`));
      d.append(renderTimeline(i, now));
      const ul = el('ul', 'steps');
      for (const x of i.events) {
        const li = el('li', '');
        li.dataset.type = x.e.type;
        if (x.e.server) li.dataset.server = x.e.server.name ?? x.e.server.id;
        li.append(
          el('span', 't', `${clock(x.t)} +${sec(x.t - i.start)}`),
          el('span', 'phase', phase(x.e.type)),
          el('span', `what ${BAD.test(x.e.type) ? 'bad' : GOOD.test(x.e.type) ? 'good' : ''}`, x.e.type),
          el('span', 'summary', describe(x.e)),
        );
        ul.append(li);
      }
      d.append(ul);
      return d;
    }),
    ...(all.length > MAX_INCIDENTS ? [el('p', 'muted', `${all.length - MAX_INCIDENTS} older incidents: instance-ha history`)] : []),
  );
}

let historyLoaded = false;

async function follow() {
  let since = 0;
  try {
    const h = await api('/api/history?limit=5000');
    for (const entry of h.entries) addEntry(entry);
  } catch {
    /* history is optional: live events still show */
  }
  historyLoaded = true;
  renderIncidents();
  for (;;) {
    try {
      const r = await api(`/api/events?since=${since}&wait=25000`);
      if (r.lastSeq < since) since = 0; // the monitor restarted
      let changed = false;
      for (const entry of r.events) changed = addEntry(entry) || changed;
      // lastSeq is the last event in this answer: the next poll starts right after it.
      since = r.lastSeq;
      // An event means a state changed: show it now rather than at the next 1 s poll.
      if (changed) {
        renderIncidents();
        void refreshStatus();
      }
    } catch {
      await new Promise((res) => setTimeout(res, 2000));
    }
  }
}

pollStatus();
follow();
