// The image store as unprivileged host users, for test/33.image-store.rootless*:
// a registry on loopback holding a two-layer image (a whiteout and an opaque
// directory in its upper layer), real users made by useradd, and `lxzone` as
// each of them in their own home (their default state directory). Call
// useRootlessStore at the top of a describeWithRegistry block.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { addHostUser, type HostUser } from './host-user.js';
import { runNodeAs } from './nobody.js';
import { busyboxRoot, ociLayout, push, startRegistry, upperLayer, type Registry } from './registry.js';
import { staleBuild } from './runtime-tools.js';

// The built CLI (bin/lxzone.js: the bundle, no TypeScript to transform) when
// dist/ is as new as the source, as after `npm run build` (CI): a call starts
// several times quicker than from source through tsx for a user whose tsx
// cache is empty, and these files make dozens of calls.
const built = staleBuild('lxzone') === undefined;

export const home = (u: HostUser) => `/home/${u.name}`;
export const storeOf = (u: HostUser) => join(home(u), '.local/share/lxzone/images');

/** `lxzone ARGS` as the user, in their own home (their default state directory). */
export function as(u: HostUser, args: string[], env: Record<string, string> = {}) {
  return runNodeAs(u, (root) => [join(root, built ? 'bin/lxzone.js' : 'test/support/cli-entry.ts'), ...args], {
    tsx: !built,
    cwd: '/',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home(u), XDG_RUNTIME_DIR: join(home(u), 'run'), ...env },
  });
}

/** Node code as the user: prints what it finds. */
export function nodeAs(u: HostUser, code: string) {
  return runNodeAs(u, () => ['-e', code], { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home(u) } });
}

/** Every file under `dir` with its owner, mode and content (what a zone must not change). */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      out.push(`${p.slice(dir.length)} ${st.uid} ${st.mode.toString(8)} ${st.isFile() ? readFileSync(p).toString('base64') : ''}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

export interface RootlessStore {
  /** Scratch directory (the registry's storage, the image's layout). */
  work: string;
  /** The image's reference in the registry. */
  ref: string;
  /** The users made, in the order their prefixes were given. */
  users: HostUser[];
}

/** Registers the hooks: the registry and the image before all tests, the users (`prefixes`: useradd name prefixes); all gone after. */
export function useRootlessStore(prefixes: string[]): RootlessStore {
  const ctx: RootlessStore = { work: '', ref: '', users: [] };
  let reg: Registry | undefined;
  beforeAll(async () => {
    ctx.work = mkdtempSync(join(tmpdir(), 'lxzone-33rl-'));
    busyboxRoot(join(ctx.work, 'l1'));
    upperLayer(join(ctx.work, 'l2'));
    ociLayout(join(ctx.work, 'oci'), [join(ctx.work, 'l1'), join(ctx.work, 'l2')], 'v1');
    reg = await startRegistry(ctx.work);
    ctx.ref = `${reg.host}/rootless:v1`;
    push(join(ctx.work, 'oci'), 'v1', ctx.ref);
    for (const p of prefixes) ctx.users.push(addHostUser(p));
  }, 120_000);

  // Long enough for two CLI calls on a loaded host: a hook cut short left the users behind.
  afterAll(async () => {
    try {
      for (const u of ctx.users) {
        try {
          await as(u, ['daemon', 'stop', '--halt-zones']);
        } finally {
          u.remove();
        }
      }
    } finally {
      await reg?.stop();
      if (ctx.work) rmSync(ctx.work, { recursive: true, force: true });
    }
  }, 120_000);
  return ctx;
}
