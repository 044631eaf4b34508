// A zone's logs: the last lines, then live (server-sent events) while
// "Follow" is on; a search that hides non-matching lines; a download of the
// whole log.
import { h } from './dom.js';

export function logsPanel(name: string): { el: HTMLElement; close: () => void } {
  const z = encodeURIComponent(name);
  const out = h('pre', { id: 'log', class: 'log', tabindex: 0, 'aria-label': `Logs of ${name}` });
  const follow = h('input', { id: 'log-follow', type: 'checkbox', checked: true });
  const search = h('input', { id: 'log-search', type: 'search', placeholder: 'filter lines' });
  const lines: { text: string; stream: string }[] = [];
  let partial = { stdout: '', stderr: '' } as Record<string, string>;
  let source: EventSource | undefined;

  const visible = (t: string) => !search.value || t.toLowerCase().includes(search.value.toLowerCase());
  const render = () => out.replaceChildren(...lines.filter((l) => visible(l.text)).map((l) => h('span', { class: `log-${l.stream}` }, `${l.text}\n`)));
  const add = (stream: string, text: string) => {
    const parts = (partial[stream] + text).split('\n');
    partial[stream] = parts.pop() ?? '';
    for (const t of parts) {
      lines.push({ text: t, stream });
      if (visible(t)) out.append(h('span', { class: `log-${stream}` }, `${t}\n`));
    }
    if (lines.length > 5000) {
      lines.splice(0, lines.length - 5000);
      render();
    }
    if (follow.checked) out.scrollTop = out.scrollHeight;
  };
  const open = () => {
    source?.close();
    lines.length = 0;
    partial = { stdout: '', stderr: '' };
    out.replaceChildren();
    source = new EventSource(`/api/zones/${z}/logs?follow=1&tail=200`);
    source.addEventListener('log', (e) => {
      const m = JSON.parse((e as MessageEvent<string>).data) as { stream: string; text: string };
      add(m.stream, m.text);
    });
    source.addEventListener('end', () => source?.close());
  };
  follow.addEventListener('change', () => (follow.checked ? open() : source?.close()));
  search.addEventListener('input', render);
  open();
  const el = h(
    'section',
    { 'aria-labelledby': 'logs-title' },
    h('h2', { id: 'logs-title' }, 'Logs'),
    h(
      'div',
      { class: 'toolbar' },
      h('label', { class: 'inline' }, follow, ' Follow'),
      h('label', { for: 'log-search' }, 'Search'),
      search,
      h('a', { href: `/api/zones/${z}/logs?download=1`, download: `${name}.log` }, 'Download'),
    ),
    out,
  );
  return { el, close: () => source?.close() };
}
