// The zone's own /proc view through LXCFS: one shared lxcfs daemon per host
// at a lxzone-owned mountpoint, started on demand. Each zone then gets bind
// mounts of <mountpoint>/proc/{meminfo,cpuinfo,stat,...} over its /proc files.
// LXCFS answers every read from the cgroup of the reader's pid-namespace init,
// so the files show that zone's caps and usage with no syscall notified: the
// reads are plain FUSE reads (see docs/parts/network-cgroups.md for the choice).
import { spawn } from 'node:child_process';
import { closeSync, openSync, promises as fs, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import type { BindMount as ZoneBind } from '../config/types.js';
import { processStartTime, withLock } from '../network/lock.js';
import { run } from '../network/exec.js';

export const DEFAULT_PROCVIEW_MOUNT = '/run/lxzone/lxcfs';

/** The /proc files LXCFS virtualizes (its api_extensions proc_*). slabinfo is left out: root-only and rarely read. */
export const PROC_FILES = ['meminfo', 'cpuinfo', 'stat', 'loadavg', 'swaps', 'uptime', 'diskstats'] as const;

export interface ProcViewOptions {
  /** Where the shared lxcfs is mounted. Default /run/lxzone/lxcfs. */
  mountpoint?: string;
  /** The lxcfs executable. Default "lxcfs" from PATH. */
  binary?: string;
  /** Milliseconds to wait for the mount to appear. Default 10 000. */
  timeoutMs?: number;
}

export interface ProcView {
  mountpoint: string;
  pid: number;
  /** False when an already running lxcfs was found (startProcView is idempotent). */
  started: boolean;
}

/** A file of the view bound over the zone's own (read-only, non-recursive). */
export type BindMount = ZoneBind & { readOnly: true };

function paths(opts: ProcViewOptions) {
  const mountpoint = opts.mountpoint ?? DEFAULT_PROCVIEW_MOUNT;
  if (!mountpoint.startsWith('/')) throw new LxzoneError(`procview mountpoint ${JSON.stringify(mountpoint)} must be absolute`);
  return { mountpoint, pidFile: `${mountpoint}.pid`, logFile: `${mountpoint}.log`, lockFile: `${mountpoint}.lock` };
}

/** The fuse.lxcfs mount at `mountpoint` in this mount namespace, if any. */
function isLxcfsMounted(mountpoint: string): boolean {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post && pre.split(' ')[4] === mountpoint && post.startsWith('fuse.lxcfs ')) return true;
  }
  return false;
}

/** Mounted and answering (a dead daemon leaves a mount whose reads fail with ENOTCONN). */
async function healthy(mountpoint: string): Promise<boolean> {
  if (!isLxcfsMounted(mountpoint)) return false;
  try {
    await fs.readFile(`${mountpoint}/proc/uptime`, 'utf8');
    return true;
  } catch {
    return false;
  }
}

async function readPidFile(pidFile: string): Promise<number | undefined> {
  try {
    const [pid, start] = (await fs.readFile(pidFile, 'utf8')).trim().split(' ');
    const n = Number(pid);
    // Our pid file holds "pid starttime": never signal a recycled pid.
    if (Number.isInteger(n) && n > 0 && (start === undefined || processStartTime(n) === start)) return n;
  } catch {}
  return undefined;
}

async function unmountStale(mountpoint: string): Promise<void> {
  while (isLxcfsMounted(mountpoint)) {
    // Lazy: zones may still hold binds of the dead mount; they see ENOTCONN until they restart.
    await run('umount', ['-l', mountpoint]);
  }
}

/** Start the shared lxcfs if it is not already serving `mountpoint`. Safe to call at every zone boot. */
export async function startProcView(opts: ProcViewOptions = {}): Promise<ProcView> {
  const { mountpoint, pidFile, logFile, lockFile } = paths(opts);
  await fs.mkdir(dirname(mountpoint), { recursive: true, mode: 0o755 });
  return withLock(lockFile, async () => {
    if (await healthy(mountpoint)) {
      const pid = await readPidFile(pidFile);
      if (pid !== undefined) return { mountpoint, pid, started: false };
      // Mounted by someone else (e.g. a distribution lxcfs.service pointed here): use it, we do not own it.
      return { mountpoint, pid: 0, started: false };
    }
    await unmountStale(mountpoint);
    await fs.mkdir(mountpoint, { recursive: true, mode: 0o755 });
    const log = openSync(logFile, 'a', 0o600);
    // -f: stay in the foreground of our detached child so we know its pid;
    // -l: virtualize loadavg; --enable-cfs: cpuinfo/stat follow the CPU quota;
    // --enable-pidfd: no pid-reuse races. Its own pid file (-p) is unused: ours carries the start time.
    // It outlives the CLI or daemon that starts it and serves every zone: it gets a clean
    // environment, never the starter's (which may carry credentials or test markers).
    const child = spawn(
      opts.binary ?? 'lxcfs',
      ['-f', '-l', '--enable-cfs', '--enable-pidfd', '-p', `${mountpoint}.lxcfs-pid`, mountpoint],
      { detached: true, stdio: ['ignore', log, log], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } },
    );
    closeSync(log);
    const spawned = await new Promise<Error | undefined>((res) => {
      child.once('spawn', () => res(undefined));
      child.once('error', res);
    });
    if (spawned) {
      throw new LxzoneError(`cannot start ${opts.binary ?? 'lxcfs'}: ${spawned.message} (Debian: apt-get install lxcfs fuse3)`, {
        code: (spawned as NodeJS.ErrnoException).code,
      });
    }
    child.unref();
    const pid = child.pid!;
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    while (!(await healthy(mountpoint))) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
        const tail = (await fs.readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
        throw new LxzoneError(`lxcfs did not come up at ${mountpoint} (see ${logFile}: ${tail})`);
      }
      await sleep(25);
    }
    await fs.writeFile(pidFile, `${pid} ${processStartTime(pid)}\n`, { mode: 0o600 });
    return { mountpoint, pid, started: true };
  });
}

/** Stop the lxcfs we started and remove its mount. Zones still binding its files see ENOTCONN: stop it only when no zone runs. */
export async function stopProcView(opts: ProcViewOptions = {}): Promise<boolean> {
  const { mountpoint, pidFile, lockFile } = paths(opts);
  return withLock(lockFile, async () => {
    const pid = await readPidFile(pidFile);
    let stopped = false;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
        stopped = true;
      } catch {}
      // lxcfs 5 unmounts on SIGTERM but its loadavg thread can keep the process alive: short grace, then SIGKILL.
      for (let i = 0; i < 50 && processStartTime(pid) !== undefined; i++) await sleep(10);
      if (processStartTime(pid) !== undefined) process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && processStartTime(pid) !== undefined; i++) await sleep(10);
    }
    if (pid !== undefined || !isLxcfsMounted(mountpoint)) {
      await unmountStale(mountpoint);
    }
    await fs.rm(pidFile, { force: true });
    await fs.rm(`${mountpoint}.lxcfs-pid`, { force: true });
    await fs.rmdir(mountpoint).catch(() => {});
    return stopped;
  });
}

/** The bind mounts the shim applies over the zone's freshly mounted /proc (and one sysfs file), in order.
 *  Sources are host paths: open or bind them before pivot_root. */
export function procViewBinds(opts: ProcViewOptions = {}): BindMount[] {
  const { mountpoint } = paths(opts);
  const binds: BindMount[] = PROC_FILES.map((f) => ({ host: `${mountpoint}/proc/${f}`, zone: `/proc/${f}`, readOnly: true }));
  // glibc's get_nprocs() (sysconf(_SC_NPROCESSORS_ONLN)) reads this file; LXCFS narrows it to the zone's CPUs.
  binds.push({ host: `${mountpoint}/sys/devices/system/cpu/online`, zone: '/sys/devices/system/cpu/online', readOnly: true });
  return binds;
}
