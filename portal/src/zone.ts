// One zone's page: state and actions, live usage against caps (plots), a
// form to change caps, its configuration (environment values hidden until
// revealed), notified-syscall counters and unsupported-syscall events, its
// logs and a terminal.
import { api, watchZones } from './api.js';
import { actionButtons } from './actions.js';
import { bytes, dataTable, duration, h, mount, say } from './dom.js';
import { logsPanel } from './logs.js';
import { Plot } from './plot.js';
import { terminalPanel } from './terminal.js';
import type { StatsResult, SyscallCount, UnsupportedEvent, ZoneDetails, ZoneInfo, ZoneStats } from './types.js';

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
  return dataTable({
    class: 'counts',
    caption,
    rows,
    columns: [
      { title: 'ABI', cell: (r) => r.abi },
      { title: 'Syscall', cell: (r) => r.name ?? `#${r.nr}` },
      { title: 'Count', cell: (r) => String(r.count) },
    ],
  });
}

/** The newest unsupported-syscall events (the daemon keeps the last 50 per zone), newest first. */
function eventsTable(events: UnsupportedEvent[]): HTMLElement {
  if (events.length === 0) return h('p', { id: 'unsupported-events' }, 'Unsupported-syscall events: none.');
  return dataTable({
    id: 'unsupported-events',
    class: 'counts events',
    caption: 'Unsupported-syscall events, newest first',
    rows: events,
    columns: [
      { title: 'Time', cell: (e) => new Date(e.at).toLocaleTimeString() },
      { title: 'PID', cell: (e) => String(e.pid) },
      { title: 'ABI', cell: (e) => e.abi },
      { title: 'Syscall', cell: (e) => e.name ?? `#${e.nr}` },
      { title: 'Arguments', wrap: true, cell: (e) => h('span', { class: 'args' }, e.args.join(', ')) },
    ],
  });
}

function syscallsPanel(): { el: HTMLElement; update: (s: ZoneStats | undefined, events: UnsupportedEvent[] | undefined) => void } {
  const body = h('div', {}, h('p', {}, 'Counted while the zone runs.'));
  let last = '';
  return {
    el: h('section', { 'aria-labelledby': 'sc-title' }, h('h2', { id: 'sc-title' }, 'Notified syscalls'), body),
    update: (s, events) => {
      if (!s && !events) return;
      // Drawn again only when something changed: a table replaced every poll would lose a reader's place.
      const now = JSON.stringify([s, events]);
      if (now === last) return;
      last = now;
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

function capsForm(d: ZoneDetails, onDone: (updated: ZoneDetails) => void): HTMLElement {
  const r = d.config?.resources ?? {};
  const mib = (n: number | undefined) => (n ? Math.round(n / 1048576) : '');
  const mem = h('input', { id: 'cap-memory', type: 'number', min: 0, value: mib(r.memoryBytes) });
  const cpus = h('input', { id: 'cap-cpus', type: 'number', min: 0, step: '0.1', value: r.cpus ?? '' });
  const pids = h('input', { id: 'cap-pids', type: 'number', min: 1, value: r.pidsMax ?? '' });
  // A disk grows and is never removed (lxzone update --disk): sent only when changed.
  const disk = h('input', { id: 'cap-disk', type: 'number', min: mib(r.diskBytes) || 1, value: mib(r.diskBytes) });
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
    h('label', { for: 'cap-disk' }, r.diskBytes ? 'Disk (MiB, can only grow)' : 'Disk (MiB, empty: none; /tmp and /run from the next boot)'),
    disk,
    h('button', { type: 'submit' }, 'Update caps'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const num = (i: HTMLInputElement, scale = 1) => (i.value === '' ? null : Number(i.value) * scale);
    const body: Record<string, number | null> = { memoryBytes: num(mem, 1048576), cpus: num(cpus), pidsMax: num(pids) };
    if (disk.value !== '' && disk.value !== String(mib(r.diskBytes))) body.diskBytes = Number(disk.value) * 1048576;
    api<ZoneDetails & { note?: string }>('PATCH', `/api/zones/${encodeURIComponent(d.name)}/caps`, body).then(
      (out) => {
        say(out.note ? `caps of ${d.name} updated; ${out.note}` : `caps of ${d.name} updated`);
        onDone(out);
      },
      (err: Error) => say(`update caps: ${err.message}`, true),
    );
  });
  return form;
}

/** What the page shows of a zone's list entry: a change of any of these refreshes it. */
const shown = (z: ZoneInfo) => JSON.stringify([z.state, z.image, z.ipv4, z.ipv6, z.startedAt, z.restarts, z.memory?.max]);
const RUNNING = (z: ZoneInfo) => z.state === 'running';
const capsOf = (d: ZoneDetails) => JSON.stringify(d.config?.resources ?? {});

/** Which showZone is current: one that finishes after another began leaves the page to it. */
let generation = 0;

export async function showZone(name: string): Promise<void> {
  leaveZone();
  const mine = ++generation;
  const z = encodeURIComponent(name);
  const d = await api<ZoneDetails>('GET', `/api/zones/${z}`);
  if (mine !== generation) return;
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
  const running = RUNNING(d);
  const logs = logsPanel(name);
  const term = terminalPanel(name);
  cleanup.push(logs.close, term.close);
  let factsEl = facts(d);
  let configEl = configPanel(d);
  let configShown = JSON.stringify(d.config);
  // A cap change or a change made elsewhere (the CLI) refreshes the facts and the
  // configuration in place: an open shell and the plots' history stay. Booted or
  // stopped, the page is made again (usage, terminal).
  const refresh = async () => {
    const fresh = await api<ZoneDetails>('GET', `/api/zones/${z}`);
    if (mine !== generation) return;
    if (RUNNING(fresh) !== running) return reload();
    const f = facts(fresh);
    factsEl.replaceWith(f);
    factsEl = f;
    // The configuration again only if it changed (a revealed environment stays revealed otherwise).
    if (JSON.stringify(fresh.config) !== configShown) {
      configShown = JSON.stringify(fresh.config);
      const c = configPanel(fresh);
      configEl.replaceWith(c);
      configEl = c;
    }
    // The form again only if the caps changed elsewhere (after its own submit it stays, and the focus in it).
    if (capsOf(fresh) !== capsShown) {
      capsShown = capsOf(fresh);
      const f2 = capsForm(fresh, ownCaps);
      capsEl.replaceWith(f2);
      capsEl = f2;
    }
  };
  const refreshed = () => void refresh().catch((e: Error) => say(e.message, true));
  const ownCaps = (updated: ZoneDetails) => {
    capsShown = capsOf(updated);
    refreshed();
  };
  let capsShown = capsOf(d);
  let capsEl = capsForm(d, ownCaps);
  mount(
    h('h1', {}, `Zone ${name}`),
    h('p', {}, h('a', { href: '#/' }, '← All zones')),
    actionButtons(d, { after: (a) => (a === 'destroy' ? (location.hash = '#/') : reload()) }),
    factsEl,
    running ? usage : h('p', {}, 'The zone is not running: no usage figures.'),
    capsEl,
    sc.el,
    configEl,
    logs.el,
    running ? term.el : null,
  );
  let last = shown(d);
  cleanup.push(
    watchZones((zones) => {
      const now = zones.find((x) => x.name === name);
      if (!now) {
        leaveZone();
        mount(h('h1', {}, `Zone ${name}`), h('p', {}, `Zone ${name} was destroyed.`), h('p', {}, h('a', { href: '#/' }, '← All zones')));
        return;
      }
      if (shown(now) === last) return;
      last = shown(now);
      refreshed();
    }),
  );
  if (!running) return;
  let stopped = false;
  cleanup.push(() => (stopped = true));
  const poll = async () => {
    while (!stopped) {
      try {
        const s = await api<StatsResult>('GET', `/api/zones/${z}/stats`);
        if (stopped) break;
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
