// A few DOM helpers: elements built with textContent only (never innerHTML
// with data: a zone's name, log or config is text, not markup).
type Attrs = Record<string, string | boolean | number | undefined | ((e: Event) => void)>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, '').toLowerCase(), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function mount(...children: Child[]): HTMLElement {
  const main = document.getElementById('main')!;
  main.replaceChildren(...children.filter((c): c is Node | string => !!c));
  return main;
}

export function say(text: string, error = false): void {
  const s = document.getElementById('status')!;
  s.textContent = text;
  s.classList.toggle('error', error);
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export function duration(s: number | undefined): string {
  if (s === undefined) return '—';
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = Math.floor(s % 60);
  return d ? `${d}d ${hh}h` : hh ? `${hh}h ${mm}m` : mm ? `${mm}m ${ss}s` : `${ss}s`;
}

/** One column of a data table: its heading and its cell (the heading also labels the cell on a narrow window). */
export interface Column<T> {
  title: string;
  cell: (row: T) => Child;
  /** The row's header cell (th scope=row), e.g. a zone's name. */
  rowHeader?: boolean;
  /** Long values (addresses, arguments) may break anywhere. */
  wrap?: boolean;
}

/**
 * A table of rows by columns, the one shape of every table in the portal:
 * a caption, column headings, and each cell labelled by its heading
 * (data-label) so that a narrow window shows each row as a labelled card.
 */
export function dataTable<T>(o: { caption: string; columns: Column<T>[]; rows: T[]; id?: string; class?: string; rowAttrs?: (row: T) => Attrs }): HTMLTableElement {
  const cell = (c: Column<T>, r: T) =>
    c.rowHeader
      ? h('th', { scope: 'row', 'data-label': c.title, class: c.wrap ? 'wrap' : undefined }, c.cell(r))
      : h('td', { 'data-label': c.title, class: c.wrap ? 'wrap' : undefined }, c.cell(r));
  return h(
    'table',
    { id: o.id, class: `cards ${o.class ?? ''}`.trim() },
    h('caption', {}, o.caption),
    h('thead', {}, h('tr', {}, ...o.columns.map((c) => h('th', { scope: 'col' }, c.title)))),
    h('tbody', {}, ...o.rows.map((r) => h('tr', o.rowAttrs?.(r) ?? {}, ...o.columns.map((c) => cell(c, r))))),
  );
}
