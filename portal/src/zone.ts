// One zone's page: state and actions, live usage against caps (plots), a
// form to change caps, its configuration (environment values hidden until
// revealed), notified-syscall counters and unsupported-syscall events, its
// logs and a terminal.
import { api } from './api.js';
import { actionButtons } from './actions.js';
import { bytes, duration, h, mount, say } from './dom.js';
import { logsPanel } from './logs.js';
import { Plot } from './plot.js';
import { terminalPanel } from './terminal.js';
import type { StatsResult, SyscallCount, UnsupportedEvent, ZoneDetails, ZoneStats } from './types.js';

let cleanup: (() => void)[] = [];

export function leaveZone(): void {
  for (const c of cleanup) c();
  cleanup = [];
}

function facts(d: ZoneDetails): HTMLElement {
  const dl = h('dl', { class: 'facts' });
  const add = (k: string, v: string) => dl.append(h('dt', {}, k), h('dd', {}, v));
  add('State', d.state);
  add('Image', d.image ?? '—');
  add('IPv4', d.ipv4 ?? '—');
  add('IPv6', d.ipv6 ?? '—');
  add('Uptime', d.startedAt ? duration((Date.now() - Date.parse(d.startedAt)) / 1000) : '—');
  add('Restarts', String(d.restarts ?? 0));
  if (d.lastExit) add('Last exit', `${d.lastExit.exitCode}${d.lastExit.signal ? ` (${d.lastExit.signal})` : ''} at ${d.lastExit.at}${d.lastExit.error ? `: ${d.lastExit.error}` : ''}`);
  return dl;
}

function configPanel(d: ZoneDetails): HTMLElement {
  const pre = h('pre', { class: 'config', tabindex: 0, 'aria-label': 'Configuration' }, JSON.stringify(d.config ?? {}, null, 2));
  const reveal = h('button', { type: 'button', id: 'reveal-env' }, 'Reveal environment values');
  reveal.addEventListener('click', () => {
    if (!window.confirm(`Show the environment of ${d.name}? It may hold secrets.`)) return;
    api<Record<string, string>>('POST', `/api/zones/${encodeURIComponent(d.name)}/env`).then(
      (env) => {
        pre.textContent = JSON.stringify({ ...(d.config ?? {}), env }, null, 2);
        reveal.disabled = true;
      },
      (e: Error) => say(`reveal: ${e.message}`, true),
    );
  });
  const hasEnv = Object.keys(d.config?.env ?? {}).length > 0;
  return h('section', { 'aria-labelledby': 'config-title' }, h('h2', { id: 'config-title' }, 'Configuration'), hasEnv ? reveal : null, pre);
}

function countsTable(caption: string, rows: SyscallCount[]): HTMLElement {
  if (rows.length === 0) return h('p', {}, `${caption}: none.`);
  return h(
    'table',
    { class: 'counts' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'ABI'), h('th', { scope: 'col' }, 'Syscall'), h('th', { scope: 'col' }, 'Count'))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, h('td', {}, r.abi), h('td', {}, r.name ?? `#${r.nr}`), h('td', {}, String(r.count))))),
  );
}

/** The newest unsupported-syscall events (the daemon keeps the last 50 per zone), newest first. */
function eventsTable(events: UnsupportedEvent[]): HTMLElement {
  if (events.length === 0) return h('p', { id: 'unsupported-events' }, 'Unsupported-syscall events: none.');
  return h(
    'table',
    { class: 'counts events', id: 'unsupported-events' },
    h('caption', {}, 'Unsupported-syscall events, newest first'),
    h('thead', {}, h('tr', {}, ...['Time', 'PID', 'ABI', 'Syscall', 'Arguments'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      ...events.map((e) =>
        h('tr', {}, h('td', {}, new Date(e.at).toLocaleTimeString()), h('td', {}, String(e.pid)), h('td', {}, e.abi), h('td', {}, e.name ?? `#${e.nr}`), h('td', { class: 'args' }, e.args.join(', '))),
      ),
    ),
  );
}

function syscallsPanel(): { el: HTMLElement; update: (s: ZoneStats | undefined, events: UnsupportedEvent[] | undefined) => void } {
  const body = h('div', {}, h('p', {}, 'Counted while the zone runs.'));
  return {
    el: h('section', { 'aria-labelledby': 'sc-title' }, h('h2', { id: 'sc-title' }, 'Notified syscalls'), body),
    update: (s, events) => {
      if (!s && !events) return;
      body.replaceChildren(
        ...(s
          ? [
              countsTable('Notified (answered by the supervisor)', s.notified),
              countsTable('Unsupported (refused with ENOSYS, one event each)', s.unsupported),
              h('p', {}, `Handler errors: ${s.handlerErrors}; timeouts: ${s.jsTimeouts}.`),
            ]
          : []),
        eventsTable(events ?? []),
      );
    },
  };
}

function capsForm(d: ZoneDetails, onDone: () => void): HTMLElement {
  const r = d.config?.resources ?? {};
  const mem = h('input', { id: 'cap-memory', type: 'number', min: 0, value: r.memoryBytes ? Math.round(r.memoryBytes / 1048576) : '' });
  const cpus = h('input', { id: 'cap-cpus', type: 'number', min: 0, step: '0.1', value: r.cpus ?? '' });
  const pids = h('input', { id: 'cap-pids', type: 'number', min: 1, value: r.pidsMax ?? '' });
  const form = h(
    'form',
    { class: 'caps', 'aria-labelledby': 'caps-title' },
    h('h2', { id: 'caps-title' }, 'Caps'),
    h('label', { for: 'cap-memory' }, 'Memory (MiB, empty: no cap)'),
    mem,
    h('label', { for: 'cap-cpus' }, 'CPUs (empty: no cap)'),
    cpus,
    h('label', { for: 'cap-pids' }, 'Tasks (empty: no cap)'),
    pids,
    h('button', { type: 'submit' }, 'Update caps'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const num = (i: HTMLInputElement, scale = 1) => (i.value === '' ? null : Number(i.value) * scale);
    const body = { memoryBytes: num(mem, 1048576), cpus: num(cpus), pidsMax: num(pids) };
    api('PATCH', `/api/zones/${encodeURIComponent(d.name)}/caps`, body).then(
      () => {
        say(`caps of ${d.name} updated`);
        onDone();
      },
      (err: Error) => say(`update caps: ${err.message}`, true),
    );
  });
  return form;
}

export async function showZone(name: string): Promise<void> {
  leaveZone();
  const z = encodeURIComponent(name);
  const d = await api<ZoneDetails>('GET', `/api/zones/${z}`);
  const reload = () => void showZone(name).catch((e: Error) => say(e.message, true));
  const mem = new Plot('Memory', bytes);
  const cpu = new Plot('CPU (% of one CPU)', (n) => `${n.toFixed(1)}%`);
  const tasks = new Plot('Tasks', (n) => String(Math.round(n)));
  // Only a disk-capped zone has a filesystem of its own to measure (its root, an ext4 image).
  const disk = d.config?.resources?.diskBytes ? new Plot('Disk', bytes) : undefined;
  const sc = syscallsPanel();
  sc.update(d.syscalls, d.unsupportedEvents);
  const usage = h(
    'section',
    { 'aria-labelledby': 'usage-title' },
    h('h2', { id: 'usage-title' }, 'Usage against caps'),
    h('div', { class: 'plots' }, mem.el, cpu.el, tasks.el, disk?.el ?? null),
  );
  const running = d.state === 'running';
  const logs = logsPanel(name);
  const term = terminalPanel(name);
  cleanup.push(logs.close, term.close);
  mount(
    h('h1', {}, `Zone ${name}`),
    h('p', {}, h('a', { href: '#/' }, '← All zones')),
    actionButtons(d, { after: (a) => (a === 'destroy' ? (location.hash = '#/') : reload()) }),
    facts(d),
    running ? usage : h('p', {}, 'The zone is not running: no usage figures.'),
    capsForm(d, reload),
    sc.el,
    configPanel(d),
    logs.el,
    running ? term.el : null,
  );
  if (!running) return;
  let stopped = false;
  cleanup.push(() => (stopped = true));
  const poll = async () => {
    while (!stopped) {
      try {
        const s = await api<StatsResult>('GET', `/api/zones/${z}/stats`);
        if (s.usage) {
          mem.push(s.usage.memory.current, s.usage.memory.max);
          cpu.push(s.cpuPercent ?? 0, s.usage.cpu.cpus === null ? null : s.usage.cpu.cpus * 100);
          tasks.push(s.usage.pids.current, s.usage.pids.max);
        }
        // Against the cap as set (the filesystem in it is a little smaller: ext4's own metadata).
        if (disk && s.disk) disk.push(s.disk.used, s.caps.diskBytes ?? s.disk.size);
        sc.update(s.syscalls, s.unsupportedEvents);
      } catch {
        // The zone stopped meanwhile: the plots stay as they were.
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void poll();
}
