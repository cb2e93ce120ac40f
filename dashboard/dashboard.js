// instance-ha dashboard: plain JS, no build. Reads the monitor's read-only status API:
// /api/status every second, /api/history once, then /api/events as a long poll for live updates.
// Everything is rendered with textContent (never innerHTML): host names and messages are data.

const token = (() => {
  const m = /token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('iha-token', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem('iha-token');
})();

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

// ---- status -------------------------------------------------------------------------------

function renderStatus(s) {
  const code = !s.cluster.quorate ? 2 : s.alarms.length ? 1 : 0;
  const v = document.getElementById('verdict');
  v.className = `verdict ${['healthy', 'degraded', 'noquorum'][code]}`;
  v.dataset.code = String(code);
  v.textContent = ['HEALTHY', 'DEGRADED', 'NO QUORUM'][code];
  document.getElementById('updated').textContent = `monitor ${s.monitor.id} · v${s.monitor.version} · ${new Date().toLocaleTimeString()}`;
  document.getElementById('quorum').textContent =
    `quorum: ${s.cluster.votes} votes heard, ${s.cluster.needed} needed, ${s.cluster.expectedVotes} expected · coordinator ${s.cluster.coordinator ?? 'none'} · epoch ${s.cluster.epoch}`;
  const mons = document.getElementById('monitors');
  mons.replaceChildren(
    ...s.cluster.members.map((m) => {
      const li = el(
        'li',
        `${m.live ? 'live' : 'down'}${m.id === s.cluster.coordinator ? ' coordinator' : ''}`,
        `${m.id}${m.self ? ' (this)' : ''} ${m.address} · ${m.live ? 'live' : 'unreachable'}${m.id === s.cluster.coordinator ? ' ★' : ''}`,
      );
      li.dataset.monitor = m.id;
      return li;
    }),
  );
  const alarms = document.getElementById('alarms');
  alarms.replaceChildren(
    ...(s.alarms.length
      ? s.alarms.map((a) => {
          const li = el('li', 'alarm', `${a.kind}: ${a.message}`);
          li.dataset.kind = a.kind;
          return li;
        })
      : [el('li', 'muted', 'none')]),
  );
  const counts = {};
  for (const h of s.hosts) counts[h.state] = (counts[h.state] ?? 0) + 1;
  document.getElementById('host-counts').textContent = Object.entries(counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(' · ');
  const grid = document.getElementById('hosts');
  grid.replaceChildren(
    ...s.hosts.map((h) => {
      const d = el('div', `host s-${h.state}`);
      d.dataset.host = h.host;
      d.dataset.state = h.state;
      d.append(el('div', 'name', h.host), el('div', 'state', h.state + (h.maintenance ? ' (maint)' : '')));
      const f = h.fence;
      let detail = `heard ${age(h.lastHeartbeatAgeMs)} ago · loss ${h.lossPct}%`;
      if (h.state === 'fence_failed' && !(f && typeof f === 'object')) detail = 'cannot be fenced: retrying; instances NOT recovered';
      if (h.state === 'fencing') detail = 'powering off…';
      if (f && typeof f === 'object')
        detail = f.confirmedBy
          ? `fenced: confirmed off by operator ${f.confirmedBy}`
          : `${f.ok ? 'fenced' : 'fence failed'}${f.level ? ` L${f.level}` : ''} ${(f.agent ?? '').split('/').pop()} ${Math.round(f.durationMs ?? 0)}ms`;
      const r = h.recovery;
      if (r && typeof r === 'object') detail += ` · evac ${r.evacuated ?? 0}/${r.selected ?? 0}`;
      // nova-compute dead on a live host: its service disabled, never fenced.
      if (h.computeDown) {
        d.classList.add('compute-down');
        const by = h.computeDown.service === 'disabled' ? ', service disabled by instance-ha' : '';
        detail += ` · nova-compute down since ${h.computeDown.since.slice(11, 19)}Z${by}`;
      }
      d.append(el('div', 'detail', detail));
      d.title = JSON.stringify({
        state: h.state,
        here: h.localLevel,
        novaCompute: h.novaCompute,
        deadAfterMs: h.deadAfterMs,
        fence: h.fence ?? null,
      });
      return d;
    }),
  );
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
  setTimeout(pollStatus, 1000);
}

// ---- timeline -----------------------------------------------------------------------------

// Phase of an event type: known types by name, future ones (recovery, notifications) by prefix.
function phase(type) {
  if (type === 'host.suspect' || type === 'host.failed') return 'detect';
  if (type.startsWith('host.fenc')) return 'fence';
  if (/force.?down|disable/.test(type)) return 'force-down';
  if (type.startsWith('instance.')) return 'evacuate';
  if (type.startsWith('notification')) return 'notify';
  if (type.startsWith('host.recover')) return 'recover';
  return type.split('.')[0];
}
const BAD = /failed|error|not_recovered/;
const GOOD = /fenced$|evacuate_end|recovered|recovery_finished|confirmed|published/;

const incidents = new Map(); // host -> [{ start, events: [], done }]
const seen = new Set();

function summary(e) {
  const parts = [];
  for (const [k, v] of Object.entries(e)) {
    if (['type', 'at', 'host'].includes(k) || v === null || v === undefined) continue;
    if (k === 'record' && typeof v === 'object') {
      parts.push(
        `${v.ok ? 'ok' : 'FAILED'}${v.level ? ` level ${v.level}` : ''} ${(v.agent ?? '').split('/').pop()} ${Math.round(v.durationMs)}ms${v.error ? ` (${v.error})` : ''}`,
      );
      continue;
    }
    if (k === 'server' && typeof v === 'object') {
      parts.push(`${v.name} (${v.id})`);
      continue;
    }
    if (k === 'lastHeardAt' || k === 'bootId') continue;
    if (typeof v === 'number' && k.endsWith('Ms')) {
      parts.push(`${k.slice(0, -2)} ${(v / 1000).toFixed(2)}s`);
      continue;
    }
    parts.push(`${k}=${Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : v}`);
  }
  return parts.join(' ');
}

function addEntry(entry) {
  const key = `${entry.monitor}|${entry.seq}|${entry.time}`;
  if (seen.has(key)) return false;
  seen.add(key);
  const e = entry.event;
  if (typeof e.host !== 'string' || e.type === 'host.maintenance') return false;
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
  if (e.type === 'host.recovered' || e.type === 'host.recovery_finished') cur.done = true;
  return true;
}

function renderIncidents() {
  const all = [...incidents.values()].flat().filter((i) => i.events.some((x) => x.e.type !== 'host.recovered' || i.events.length > 1));
  all.sort((a, b) => b.start - a.start);
  const box = document.getElementById('incidents');
  if (all.length === 0) {
    box.replaceChildren(el('p', 'muted', 'no failures recorded'));
    return;
  }
  box.replaceChildren(
    ...all.slice(0, 50).map((i) => {
      const d = el('div', `incident${i.done ? ' done' : ''}`);
      d.dataset.host = i.host;
      const last = i.events[i.events.length - 1];
      d.append(
        el('h3', '', `${i.host} — ${new Date(i.start).toLocaleString()} — ${last.e.type} after ${((last.t - i.start) / 1000).toFixed(1)}s`),
      );
      const ul = el('ul', 'steps');
      for (const x of i.events) {
        const li = el('li', '');
        li.dataset.type = x.e.type;
        li.append(
          el('span', 't', `+${((x.t - i.start) / 1000).toFixed(2)}s`),
          el('span', 'phase', phase(x.e.type)),
          el('span', `what ${BAD.test(x.e.type) ? 'bad' : GOOD.test(x.e.type) ? 'good' : ''}`, x.e.type),
          el('span', 'summary', summary(x.e)),
        );
        ul.append(li);
      }
      d.append(ul);
      return d;
    }),
  );
}

async function follow() {
  let since = 0;
  try {
    const h = await api('/api/history?limit=5000');
    for (const entry of h.entries) addEntry(entry);
    renderIncidents();
  } catch {
    /* history is optional: live events still show */
  }
  for (;;) {
    try {
      const r = await api(`/api/events?since=${since}&wait=25000`);
      if (r.lastSeq < since) since = 0; // the monitor restarted
      let changed = false;
      for (const entry of r.events) changed = addEntry(entry) || changed;
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
