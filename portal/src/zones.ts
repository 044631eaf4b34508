// The zone list: state, image, addresses, uptime and restarts of every zone,
// kept current by the daemon's event stream (a change made with the CLI
// shows without a reload); actions and the create form.
import { api, watchZones } from './api.js';
import { actionButtons } from './actions.js';
import { dataTable, duration, h, mount, say, type Column } from './dom.js';
import type { ZoneInfo } from './types.js';

let stopEvents: (() => void) | undefined;

export function stopZoneEvents(): void {
  stopEvents?.();
  stopEvents = undefined;
}

function uptime(z: ZoneInfo): string {
  if (!z.startedAt) return '—';
  return duration((Date.now() - Date.parse(z.startedAt)) / 1000);
}

const COLUMNS: Column<ZoneInfo>[] = [
  { title: 'Name', rowHeader: true, cell: (z) => h('a', { href: `#/zone/${encodeURIComponent(z.name)}` }, z.name) },
  { title: 'State', cell: (z) => h('span', { class: `state state-${z.state}` }, z.state) },
  { title: 'Image', wrap: true, cell: (z) => z.image ?? '—' },
  { title: 'IPv4', cell: (z) => z.ipv4 ?? '—' },
  { title: 'IPv6', wrap: true, cell: (z) => z.ipv6 ?? '—' },
  { title: 'Uptime', cell: (z) => h('span', { 'data-started': z.startedAt ?? '' }, uptime(z)) },
  { title: 'Restarts', cell: (z) => String(z.restarts ?? 0) },
  { title: 'Actions', cell: (z) => actionButtons(z) },
];

function table(zones: ZoneInfo[]): HTMLElement {
  if (zones.length === 0) return h('p', { id: 'zones' }, 'No zones yet. Create one below or with `lxzone create`.');
  return dataTable({ id: 'zones', class: 'zones', caption: `${zones.length} zone${zones.length === 1 ? '' : 's'}`, columns: COLUMNS, rows: zones, rowAttrs: (z) => ({ 'data-zone': z.name }) });
}

/** What identifies a control in the list across a redraw: its label, or its link. */
const controlKey = (e: Element | null) => e?.getAttribute('aria-label') ?? e?.getAttribute('href') ?? undefined;

/**
 * The list drawn again with the keyboard focus kept where it was (a live
 * update must not throw a keyboard user out of the list): on the same
 * control, or on its zone's link when that control is gone (Boot became Halt).
 */
function redraw(zones: ZoneInfo[]): void {
  const old = document.getElementById('zones');
  if (!old) return;
  const focused = old.contains(document.activeElement) ? document.activeElement : null;
  const key = controlKey(focused);
  const zone = focused?.closest('tr')?.getAttribute('data-zone');
  const next = table(zones);
  old.replaceWith(next);
  if (!key) return;
  const same = [...next.querySelectorAll<HTMLElement>('a, button')].find((e) => controlKey(e) === key);
  (same ?? next.querySelector<HTMLElement>(`tr[data-zone="${CSS.escape(zone ?? '')}"] a`))?.focus();
}

/** A command line as words: spaces separate, '…' and "…" keep spaces (no escapes, no variables). */
export function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** The template choices: every zone, kept as the list changes (the choice stays if its zone does). */
function templateOptions(select: HTMLSelectElement, zones: ZoneInfo[]): void {
  const chosen = select.value;
  select.replaceChildren(h('option', { value: '' }, '(none)'), ...zones.map((z) => h('option', { value: z.name }, z.name)));
  if (zones.some((z) => z.name === chosen)) select.value = chosen;
}

function createForm(zones: ZoneInfo[]): HTMLElement {
  const name = h('input', { id: 'new-name', name: 'name', required: true, pattern: '[a-z0-9][a-z0-9_.\\-]{0,62}', autocomplete: 'off' });
  const image = h('input', { id: 'new-image', name: 'image', placeholder: '/srv/images/app.tar', autocomplete: 'off' });
  const template = h('select', { id: 'new-template', name: 'template' });
  templateOptions(template, zones);
  const command = h('input', { id: 'new-command', name: 'command', placeholder: '/bin/sleep 3600', autocomplete: 'off' });
  const memory = h('input', { id: 'new-memory', name: 'memory', type: 'number', min: 1, placeholder: 'no cap' });
  const disk = h('input', { id: 'new-disk', name: 'disk', type: 'number', min: 1, placeholder: 'no cap' });
  const boot = h('input', { id: 'new-boot', name: 'boot', type: 'checkbox', checked: true });
  const form = h(
    'form',
    { class: 'create', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'Create a zone'),
    h('label', { for: 'new-name' }, 'Name'),
    name,
    h('label', { for: 'new-image' }, 'Image archive on the host (empty: the host’s root, read-only)'),
    image,
    h('label', { for: 'new-template' }, 'Or copy the configuration of'),
    template,
    h('label', { for: 'new-command' }, 'Command (words separated by spaces, quotes keep a word together; empty: the image’s)'),
    command,
    h('label', { for: 'new-memory' }, 'Memory cap (MiB)'),
    memory,
    h('label', { for: 'new-disk' }, 'Disk cap (MiB, an image zone’s root)'),
    disk,
    h('label', { class: 'inline' }, boot, ' Boot it now'),
    h('button', { type: 'submit' }, 'Create'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body: Record<string, unknown> = { name: name.value.trim(), boot: boot.checked };
    if (image.value.trim()) body.image = image.value.trim();
    if (template.value) body.template = template.value;
    if (command.value.trim()) body.command = words(command.value.trim());
    if (memory.value) body.memoryBytes = Number(memory.value) * 1024 * 1024;
    if (disk.value) body.diskBytes = Number(disk.value) * 1024 * 1024;
    say(`creating ${body.name as string}…`);
    api('POST', '/api/zones', body).then(
      () => {
        say(`created ${body.name as string}`);
        form.reset();
      },
      (err: Error) => say(`create: ${err.message}`, true),
    );
  });
  return form;
}

export async function showZones(): Promise<void> {
  const zones = await api<ZoneInfo[]>('GET', '/api/zones');
  const list = h('section', { 'aria-labelledby': 'zones-title' }, h('h1', { id: 'zones-title' }, 'Zones'), table(zones));
  mount(list, createForm(zones));
  stopZoneEvents();
  stopEvents = watchZones(
    (fresh) => {
      redraw(fresh);
      const select = document.getElementById('new-template');
      if (select instanceof HTMLSelectElement) templateOptions(select, fresh);
    },
    () => say('live updates interrupted; retrying…'),
  );
}

/** Uptimes tick in the page, not by the server. */
export function tickUptimes(): void {
  for (const td of document.querySelectorAll<HTMLElement>('[data-started]')) {
    const s = td.dataset.started;
    if (s) td.textContent = duration((Date.now() - Date.parse(s)) / 1000);
  }
}
