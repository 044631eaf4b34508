// The syscall coverage report (`lxzone syscalls --json`) per ABI and
// profile, filtered in the page by name, class and disposition, with the
// conformance outcome where the suite has run.
import { api } from './api.js';
import { dataTable, h, mount, type Column } from './dom.js';

interface Row {
  nr: number;
  name: string;
  class: string;
  disposition: string;
  kind: string;
  conditional: boolean;
  reason?: string;
  note?: string;
  exercised?: boolean;
  passed?: boolean;
}
interface Report {
  abi: string;
  profile: string;
  rows: Row[];
  summary: Record<string, number>;
  notification?: { mode: string; note: string };
}

const ABIS = ['x86_64', 'i386', 'aarch64'];
const PROFILES = ['default', 'strict', 'permissive', 'trace'];

const outcome = (r: Row) => (r.exercised === undefined ? '—' : !r.exercised ? 'not exercised' : r.passed ? 'passed' : 'failed');

const COLUMNS: Column<Row>[] = [
  { title: 'Nr', cell: (r) => String(r.nr) },
  { title: 'Syscall', rowHeader: true, cell: (r) => r.name },
  { title: 'Class', cell: (r) => r.class },
  { title: 'Disposition', cell: (r) => h('span', { class: `kind kind-${r.kind}` }, r.disposition + (r.conditional ? ' *' : '')) },
  { title: 'Reason', wrap: true, cell: (r) => [r.reason, r.note].filter(Boolean).join(': ') || '—' },
  { title: 'Conformance', cell: outcome },
];

const syscallTable = (rows: Row[]) => dataTable({ class: 'syscalls', caption: '* argument rules give some calls another disposition', columns: COLUMNS, rows });

export async function showSyscalls(params: URLSearchParams): Promise<void> {
  const abi = h('select', { id: 'sc-abi' }, ...ABIS.map((a) => h('option', { value: a, selected: a === (params.get('abi') ?? 'x86_64') }, a)));
  const profile = h('select', { id: 'sc-profile' }, ...PROFILES.map((p) => h('option', { value: p, selected: p === (params.get('profile') ?? 'default') }, p)));
  const text = h('input', { id: 'sc-filter', type: 'search', placeholder: 'name, reason or note' });
  const kind = h('select', { id: 'sc-kind' }, h('option', { value: '' }, 'all'), ...['host', 'emulate', 'errno', 'kill', 'trace'].map((k) => h('option', { value: k }, k)));
  const klass = h('select', { id: 'sc-class' }, h('option', { value: '' }, 'all'));
  const summary = h('p', { id: 'sc-summary' });
  let report: Report | undefined;
  let table = syscallTable([]);

  const render = () => {
    if (!report) return;
    const q = text.value.toLowerCase();
    const rows = report.rows.filter(
      (r) => (!kind.value || r.kind === kind.value) && (!klass.value || r.class === klass.value) && (!q || `${r.name} ${r.reason ?? ''} ${r.note ?? ''}`.toLowerCase().includes(q)),
    );
    summary.textContent = `${rows.length} of ${report.rows.length} syscalls shown (${report.abi}, profile ${report.profile}); ${Object.entries(report.summary)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}${report.notification ? `. Notification: ${report.notification.mode}` : ''}`;
    const next = syscallTable(rows);
    table.replaceWith(next);
    table = next;
  };
  const load = async () => {
    report = await api<Report>('GET', `/api/syscalls?abi=${encodeURIComponent(abi.value)}&profile=${encodeURIComponent(profile.value)}`);
    const classes = [...new Set(report.rows.map((r) => r.class))].sort();
    klass.replaceChildren(h('option', { value: '' }, 'all'), ...classes.map((c) => h('option', { value: c }, c)));
    render();
  };
  abi.addEventListener('change', () => void load());
  profile.addEventListener('change', () => void load());
  for (const el of [text, kind, klass]) el.addEventListener('input', render);
  mount(
    h('h1', {}, 'Syscall coverage'),
    h(
      'div',
      { class: 'toolbar filters' },
      h('label', { for: 'sc-abi' }, 'ABI'),
      abi,
      h('label', { for: 'sc-profile' }, 'Profile'),
      profile,
      h('label', { for: 'sc-kind' }, 'Disposition'),
      kind,
      h('label', { for: 'sc-class' }, 'Class'),
      klass,
      h('label', { for: 'sc-filter' }, 'Search'),
      text,
    ),
    summary,
    table,
  );
  await load();
}
