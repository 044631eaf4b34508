// OCI hooks (config.md "POSIX-platform Hooks"): run by lxzone-runc in the
// runtime's namespaces, with the container's state JSON on stdin, each
// within its timeout. createContainer and startContainer would run in the
// container's namespaces: refused by translate.ts.
import { spawn } from 'node:child_process';
import { LxzoneError } from '../errors.js';
import type { OciHook } from './spec.js';

export async function runHooks(kind: string, hooks: OciHook[] | undefined, state: object): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) await runHook(`hooks.${kind}[${i}]`, h, state);
}

/**
 * poststart and poststop (config.md): a failing hook is a warning, and the
 * remaining hooks still run, in order, as if it had succeeded.
 */
export async function runHooksWarning(kind: string, hooks: OciHook[] | undefined, state: object, warn: (msg: string) => void): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) {
    await runHook(`hooks.${kind}[${i}]`, h, state).catch((err: Error) => warn(err.message));
  }
}

function runHook(where: string, h: OciHook, state: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const argv = h.args?.length ? h.args : [h.path];
    const env = Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    const child = spawn(h.path, argv.slice(1), { argv0: argv[0], env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(state));
    const timer = h.timeout ? setTimeout(() => child.kill('SIGKILL'), h.timeout * 1000) : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new LxzoneError(`${where} ${h.path}: ${err.message}`, { cause: err }));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const how = signal ? (h.timeout && signal === 'SIGKILL' ? `timed out after ${h.timeout}s` : `killed by ${signal}`) : `exited ${code}`;
      reject(new LxzoneError(`${where} ${h.path} ${how}${stderr ? `: ${stderr.trim()}` : ''}`));
    });
  });
}
