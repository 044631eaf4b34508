// Zone actions: boot, halt, reboot, destroy, each a call of the API the CLI
// uses; destroy (and halt/reboot of a running zone) asks first.
import { api } from './api.js';
import { h, say } from './dom.js';
import type { ZoneInfo } from './types.js';

const RUNNING = new Set(['running', 'booting', 'restarting']);

export function runAction(name: string, action: 'boot' | 'halt' | 'reboot' | 'destroy', after?: () => void): void {
  const destructive = action !== 'boot';
  const question =
    action === 'destroy'
      ? `Destroy zone ${name}? Its disk, logs and configuration are removed.`
      : `${action === 'halt' ? 'Halt' : 'Reboot'} zone ${name}? Its processes are stopped.`;
  if (destructive && !window.confirm(question)) return;
  say(`${action} ${name}…`);
  const req = action === 'destroy' ? api('DELETE', `/api/zones/${encodeURIComponent(name)}`, { force: true }) : api('POST', `/api/zones/${encodeURIComponent(name)}/${action}`);
  req.then(
    () => {
      say(`${action} ${name}: done`);
      after?.();
    },
    (e: Error) => say(`${action} ${name}: ${e.message}`, true),
  );
}

export function actionButtons(z: ZoneInfo, o: { after?: (action: string) => void } = {}): HTMLElement {
  const running = RUNNING.has(z.state);
  const b = (action: 'boot' | 'halt' | 'reboot' | 'destroy', label: string, show: boolean) =>
    show
      ? h('button', { type: 'button', class: `act act-${action}`, 'aria-label': `${label} ${z.name}`, onclick: () => runAction(z.name, action, () => o.after?.(action)) }, label)
      : null;
  return h('div', { class: 'actions' }, b('boot', 'Boot', !running), b('halt', 'Halt', running), b('reboot', 'Reboot', running), b('destroy', 'Destroy', true));
}
