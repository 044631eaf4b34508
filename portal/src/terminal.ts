// An interactive shell in a zone: xterm.js over the portal's websocket
// (`lxzone exec -t NAME -- /bin/sh` on the server). Keystrokes go as they
// are (Ctrl-C is a byte the zone's terminal turns into SIGINT); the size
// follows the element's, sent on every resize.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { csrfToken } from './api.js';
import { h } from './dom.js';

export function terminalPanel(name: string): { el: HTMLElement; close: () => void } {
  const box = h('div', { class: 'term', id: 'terminal' });
  const state = h('p', { class: 'term-state', 'aria-live': 'polite' }, 'Not connected.');
  const open = h('button', { type: 'button', id: 'term-open' }, 'Open a shell');
  let term: Terminal | undefined;
  let ws: WebSocket | undefined;
  let observer: ResizeObserver | undefined;

  const close = () => {
    ws?.close();
    observer?.disconnect();
    term?.dispose();
    ws = undefined;
    term = undefined;
  };

  open.addEventListener('click', () => {
    close();
    term = new Terminal({ cursorBlink: true, convertEol: false, fontSize: 14, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    box.replaceChildren();
    term.open(box);
    fit.fit();
    const q = new URLSearchParams({ csrf: csrfToken(), cols: String(term.cols), rows: String(term.rows) });
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const sock = new WebSocket(`${proto}://${location.host}/api/zones/${encodeURIComponent(name)}/terminal?${q}`);
    sock.binaryType = 'arraybuffer';
    ws = sock;
    const t = term;
    state.textContent = 'Connecting…';
    sock.addEventListener('open', () => {
      state.textContent = `Connected to ${name}.`;
      t.focus();
    });
    sock.addEventListener('message', (e) => {
      if (typeof e.data === 'string') {
        const m = JSON.parse(e.data) as { type: string; code?: number; message?: string };
        if (m.type === 'exit') state.textContent = `The shell exited (status ${m.code}).`;
        if (m.type === 'error') state.textContent = `Cannot open a shell: ${m.message}`;
        return;
      }
      t.write(new Uint8Array(e.data as ArrayBuffer));
    });
    sock.addEventListener('close', () => {
      if (!/exited|Cannot/.test(state.textContent ?? '')) state.textContent = 'Disconnected.';
    });
    t.onData((data) => sock.readyState === WebSocket.OPEN && sock.send(JSON.stringify({ type: 'input', data })));
    t.onResize(({ cols, rows }) => sock.readyState === WebSocket.OPEN && sock.send(JSON.stringify({ type: 'resize', cols, rows })));
    observer = new ResizeObserver(() => fit.fit());
    observer.observe(box);
  });

  const el = h('section', { 'aria-labelledby': 'term-title' }, h('h2', { id: 'term-title' }, 'Terminal'), h('div', { class: 'toolbar' }, open, state), box);
  return { el, close };
}
