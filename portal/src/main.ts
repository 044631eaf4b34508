// The portal's pages, routed by the URL's fragment: #/ (zones),
// #/zone/NAME, #/syscalls. Without a session, the login form.
import '@xterm/xterm/css/xterm.css';
import '../app.css';
import { ApiError, login, logout, resume } from './api.js';
import { h, mount, say } from './dom.js';
import { showSyscalls } from './syscalls.js';
import { leaveZone, showZone } from './zone.js';
import { showZones, stopZoneEvents, tickUptimes } from './zones.js';

function showLogin(): void {
  const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true });
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Log in to lxzone'),
    h('p', {}, 'The daemon printed a login token when it started (lxzone daemon --portal).'),
    h('label', { for: 'token' }, 'Login token'),
    token,
    h('button', { type: 'submit' }, 'Log in'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    login(token.value.trim()).then(
      () => {
        say('logged in');
        document.getElementById('logout')!.hidden = false;
        void route();
      },
      (err: Error) => say(`login: ${err.message}`, true),
    );
  });
  mount(form);
  token.focus();
}

async function route(): Promise<void> {
  stopZoneEvents();
  leaveZone();
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  try {
    const zone = /^\/zone\/(.+)$/.exec(path ?? '');
    if (zone) await showZone(decodeURIComponent(zone[1]!));
    else if (path === '/syscalls') await showSyscalls(new URLSearchParams(query));
    else await showZones();
    document.getElementById('main')?.focus({ preventScroll: true });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return showLogin();
    mount(h('p', { class: 'error' }, (e as Error).message));
  }
}

async function start(): Promise<void> {
  const out = document.getElementById('logout') as HTMLButtonElement;
  out.addEventListener('click', () => {
    void logout().then(() => {
      out.hidden = true;
      showLogin();
    });
  });
  window.addEventListener('hashchange', () => void route());
  setInterval(tickUptimes, 1000);
  if (await resume()) {
    out.hidden = false;
    await route();
  } else showLogin();
}

void start();
