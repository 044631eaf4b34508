// A fuller "nothing left behind" check than zones.ts's hostSnapshot(): what a
// zone, a failed start or a killed launcher could leave on the host.
//
//   fds       this test process's open file descriptors (listener fds,
//             control sockets, pipes to keepers)
//   procs     processes started from this test process, directly or not
//             (shims, zone inits, daemons, CLIs): recognised by a marker in
//             their environment (LXZONE_LEAK_TAG, set below and inherited),
//             so zones that other test files run on the same host are not ours
//   mounts    the host mount table (our mount namespace)
//   cgroups   every cgroup under a directory named lxzone* in any hierarchy
//   links     network devices named lxz* / lxp* (bridges, veth pairs), with
//             the alias that names their owner
//   netns     named network namespaces (/run/netns)
//   files     every file and directory under the given dirs (state, runtime)
//
// The host is shared with other test runs, so only additions count (something
// another run removed is not our leak), and `expectNoLeaks` waits a little
// for teardown to finish before it reports. Take the baseline after a first
// zone has run: the supervisor opens its epoll fd and thread once per process.
//
// The shared LXCFS of the installation (mounted at /run/lxzone/lxcfs by the
// first zone with caps, from any test file) serves every zone and is meant to
// outlive them, like the bridge: its mount is never counted. Its process has a
// clean environment, so it never carries our marker.
import { readdirSync, readFileSync, readlinkSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEFAULT_PROCVIEW_MOUNT } from '../../src/zone/procview/lxcfs.js';

/** Marks every process this test process starts (environments are inherited). */
export const LEAK_TAG = (process.env.LXZONE_LEAK_TAG ??= `${process.pid}-${randomBytes(4).toString('hex')}`);

export interface LeakSnapshot {
  fds: string[];
  procs: string[];
  mounts: string[];
  cgroups: string[];
  links: string[];
  netns: string[];
  files: string[];
}

export type LeakKind = keyof LeakSnapshot;

function fds(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.push(`${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`);
    } catch {
      // the fd readdir itself used
    }
  }
  return out;
}

/** Processes other than this one that carry our tag, as "pid exe". */
function procs(): string[] {
  const needle = Buffer.from(`LXZONE_LEAK_TAG=${LEAK_TAG}\0`);
  const out: string[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${e}/environ`).includes(needle)) continue;
      let exe = '?';
      try {
        exe = readlinkSync(`/proc/${e}/exe`);
      } catch {}
      // A zombie is gone in every sense that matters once its parent reaps it; count it anyway.
      out.push(`${e} ${exe}`);
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

/** Mount points with their type and source; mount ids differ between readers, these do not. */
function mounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [pre, post] = l.split(' - ');
      const f = pre!.split(' ');
      const [fstype, source] = post!.split(' ');
      return `${f[4]} ${fstype} ${source}`;
    })
    .filter((m) => !m.startsWith(`${DEFAULT_PROCVIEW_MOUNT} fuse.lxcfs `));
}

function walk(dir: string, onDir: (path: string) => void): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const d of entries) {
    if (!d.isDirectory()) continue;
    const p = join(dir, d.name);
    onDir(p);
    walk(p, onDir);
  }
}

/** Cgroups at or below a directory named lxzone*, as "<hierarchy>:/path". */
function cgroups(): string[] {
  const out: string[] = [];
  let hierarchies: string[];
  try {
    hierarchies = readdirSync('/sys/fs/cgroup');
  } catch {
    return out;
  }
  const top = '/sys/fs/cgroup';
  for (const h of hierarchies) {
    const root = join(top, h);
    try {
      if (!statSync(root).isDirectory()) continue;
    } catch {
      continue;
    }
    // A v2-only host mounts the unified tree right at /sys/fs/cgroup.
    const base = existsSync(join(top, 'cgroup.controllers')) ? top : root;
    walk(base, (p) => {
      if (/\/lxzone[^/]*(\/|$)/.test(p)) out.push(`${h}:/${relative(base, p)}`);
    });
    if (base === top) break;
  }
  return out;
}

function links(): string[] {
  const out: string[] = [];
  for (const n of readdirSync('/sys/class/net')) {
    if (!/^lx[zp]/.test(n)) continue;
    let alias = '';
    try {
      alias = readFileSync(`/sys/class/net/${n}/ifalias`, 'utf8').trim();
    } catch {}
    out.push(alias ? `${n} (${alias})` : n);
  }
  return out;
}

function netns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

function files(dirs: string[]): string[] {
  const out: string[] = [];
  const list = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      out.push(e.isDirectory() ? `${p}/` : p);
      if (e.isDirectory()) list(p);
    }
  };
  for (const d of dirs) list(d);
  return out;
}

export interface SnapshotOptions {
  /** Directories whose files count (the state and runtime directories). */
  dirs?: string[];
}

export function leakSnapshot(o: SnapshotOptions = {}): LeakSnapshot {
  return {
    fds: fds(),
    procs: procs(),
    mounts: mounts(),
    cgroups: cgroups(),
    links: links(),
    netns: netns(),
    files: files(o.dirs ?? []),
  };
}

function added(before: string[], now: string[]): string[] {
  const left = new Map<string, number>();
  for (const b of before) left.set(b, (left.get(b) ?? 0) + 1);
  const out: string[] = [];
  for (const n of now) {
    const c = left.get(n) ?? 0;
    if (c > 0) left.set(n, c - 1);
    else out.push(n);
  }
  return out;
}

export interface LeakCheckOptions extends SnapshotOptions {
  /** How long teardown may take before what is left counts as leaked (default 5 s). */
  timeoutMs?: number;
  /** Keep only items that belong to this test (e.g. its bridge, its cgroup parent): other runs share the host. */
  scope?: Partial<Record<LeakKind, (item: string) => boolean>>;
  /** Kinds not to compare (say, fds while a daemon connection is deliberately open). */
  skip?: LeakKind[];
}

/** What is in `now` and was not in `before`, per kind (only kinds with something). */
export function leaksSince(before: LeakSnapshot, now: LeakSnapshot, o: LeakCheckOptions = {}): Partial<Record<LeakKind, string[]>> {
  const out: Partial<Record<LeakKind, string[]>> = {};
  // The fd list differs in targets when an fd number is reused for something else: count, then name.
  for (const k of Object.keys(now) as LeakKind[]) {
    if (o.skip?.includes(k)) continue;
    let extra = added(before[k], now[k]);
    if (k === 'fds' && now.fds.length <= before.fds.length) extra = [];
    const keep = o.scope?.[k];
    if (keep) extra = extra.filter(keep);
    if (extra.length) out[k] = extra;
  }
  return out;
}

export function formatLeaks(leaks: Partial<Record<LeakKind, string[]>>): string {
  return Object.entries(leaks)
    .map(([k, v]) => `${k}: ${v!.slice(0, 20).join(', ')}${v!.length > 20 ? ` … (${v!.length} in all)` : ''}`)
    .join('\n');
}

/** Waits up to timeoutMs for the host to be back where `before` found it; throws naming what is left. */
export async function expectNoLeaks(before: LeakSnapshot, o: LeakCheckOptions = {}): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 5000);
  for (;;) {
    const leaks = leaksSince(before, leakSnapshot(o), o);
    if (Object.keys(leaks).length === 0) return;
    if (Date.now() > deadline) throw new Error(`left behind:\n${formatLeaks(leaks)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
