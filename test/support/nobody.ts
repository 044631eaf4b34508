// Running node as the unprivileged user nobody, with this checkout's code
// (rootless tests). nobody must reach the checkout: a clone inside a private
// directory (`git clone . "$(mktemp -d)/c"` puts it under a 0700 one) is out
// of its reach, so the command then runs in a mount namespace of its own
// where the checkout is bound at a world-reachable place. The host's mount
// table is not touched; the binding lives as long as the processes in that
// namespace (a daemon the command starts included), and leaves nothing on
// the host.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './zones.js';

export const NOBODY = 65534;

/** Every directory from / down to `path` lets others through. */
function reachableByOthers(path: string): boolean {
  for (let p = path; ; p = dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0) return false;
    if (p === dirname(p)) return true;
  }
}

/**
 * Where the binding goes in the command's mount namespace: /mnt, which every
 * FHS system has and the user nobody may enter. Mounting over it there hides nothing
 * of the host's and needs no directory made (and removed) on the host.
 */
const BIND_POINT = '/mnt';

/** Where nobody finds the checkout: the checkout, or the mount point of its binding. */
export function nobodysRoot(): string {
  if (reachableByOthers(repoRoot)) return repoRoot;
  if (!existsSync(BIND_POINT) || !reachableByOthers(BIND_POINT)) {
    throw new Error(`the checkout ${repoRoot} is out of nobody's reach and ${BIND_POINT} cannot serve to bind it: clone it under a directory others can enter`);
  }
  return BIND_POINT;
}

/**
 * Spawns `node --import tsx` as nobody (uid and gid 65534, no groups, the
 * environment given), its arguments built from the checkout's path as nobody
 * sees it.
 */
export function spawnNodeAsNobody(args: (root: string) => string[], opts: SpawnOptions = {}): ChildProcess {
  return spawnNodeAs({ uid: NOBODY, gid: NOBODY }, args, opts);
}

/** spawnNodeAsNobody as another unprivileged user (a host-user.ts one): the same reach to the checkout. */
export function spawnNodeAs(user: { uid: number; gid: number }, args: (root: string) => string[], opts: SpawnOptions & { tsx?: boolean } = {}): ChildProcess {
  const root = nobodysRoot();
  // tsx: to run TypeScript from source (default); not for built JavaScript (bin/lxzone.js).
  const { tsx = true, ...spawnOpts } = opts;
  const node = [process.execPath, ...(tsx ? ['--import', join(root, 'node_modules/tsx/dist/esm/index.mjs')] : []), ...args(root)];
  const setpriv = ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', ...node];
  if (root === repoRoot) return spawn(setpriv[0]!, setpriv.slice(1), spawnOpts);
  // unshare: a private mount namespace, where the shell binds the checkout
  // ($0) at the mount point ($1), then becomes nobody's node.
  const script = 'mount --bind "$0" "$1" && shift && exec "$@"';
  return spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, repoRoot, root, ...setpriv], spawnOpts);
}

/** spawnNodeAsNobody, collected: exit code, stdout, stderr. */
export function runNodeAsNobody(
  args: (root: string) => string[],
  opts: SpawnOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNodeAs({ uid: NOBODY, gid: NOBODY }, args, opts);
}

/** spawnNodeAs, collected: exit code, stdout, stderr. */
export function runNodeAs(
  user: { uid: number; gid: number },
  args: (root: string) => string[],
  opts: SpawnOptions & { tsx?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnNodeAs(user, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
