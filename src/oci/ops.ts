// lxzone-runc pause/resume, ps, update and events: each works on the
// container's own cgroup (its freezer, its processes, its caps, its usage),
// as runc's do.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../errors.js';
import { openZoneCgroup, type ZoneCgroup } from '../zone/cgroups/index.js';
import { cgroupName, statusOf } from './container.js';
import type { OciResources } from './spec.js';
import { checkOciResources } from './spec.js';
import { resourcesToLimits } from './translate.js';
import type { ContainerRecord, StateRoot } from './state.js';

async function cgroupOf(rec: ContainerRecord): Promise<ZoneCgroup> {
  if (!rec.cgroupPath) throw new LxzoneError(`container ${rec.id} has no cgroup of its own`, { code: 'ENOENT' });
  const cg = await openZoneCgroup(cgroupName(rec.id), { path: rec.cgroupPath });
  if (!cg) throw new LxzoneError(`container ${rec.id}: its cgroup ${rec.cgroupPath} is gone`, { code: 'ESRCH' });
  return cg;
}

function freezer(cg: ZoneCgroup): { file: string; frozen: string; thawed: string } {
  if (cg.version === 2) return { file: join(cg.dirs.unified!, 'cgroup.freeze'), frozen: '1', thawed: '0' };
  if (!cg.dirs.freezer) throw new LxzoneError('the cgroup v1 freezer is not mounted: pause is not possible', { code: 'ENOTSUP' });
  return { file: join(cg.dirs.freezer, 'freezer.state'), frozen: 'FROZEN', thawed: 'THAWED' };
}

/** Freezes (pause) or thaws (resume) every process of the container; returns once the kernel says so. */
export async function setPaused(root: StateRoot, id: string, paused: boolean): Promise<void> {
  const rec = root.load(id);
  const status = await statusOf(root, rec);
  const want = paused ? 'running' : 'paused';
  if (status !== want) throw new LxzoneError(`container ${id} is ${status}, not ${want}`, { code: 'EINVAL' });
  const cg = await cgroupOf(rec);
  const f = freezer(cg);
  writeFileSync(f.file, paused ? f.frozen : f.thawed);
  if (cg.version === 2) {
    // cgroup.events says frozen 1 once every task is.
    const events = join(cg.dirs.unified!, 'cgroup.events');
    for (let i = 0; i < 500 && paused && !/^frozen 1$/m.test(readFileSync(events, 'utf8')); i++) await sleep(10);
  } else {
    // v1 passes through FREEZING.
    for (let i = 0; i < 500 && readFileSync(f.file, 'utf8').trim() !== (paused ? f.frozen : f.thawed); i++) await sleep(10);
  }
}

/** Host pids of the container's processes (its cgroup's). */
export async function containerPids(root: StateRoot, id: string): Promise<number[]> {
  const rec = root.load(id);
  if ((await statusOf(root, rec)) === 'stopped') return [];
  return (await cgroupOf(rec)).pids();
}

/** `ps` output for the container: the host's ps with ARGS (default -ef), the container's rows only. */
export async function psTable(root: StateRoot, id: string, args: string[]): Promise<string> {
  const pids = new Set((await containerPids(root, id)).map(String));
  const out = execFileSync('ps', args.length ? args : ['-ef'], { encoding: 'utf8', maxBuffer: 64 * 1048576 });
  const [head, ...rows] = out.trimEnd().split('\n');
  const col = head!.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new LxzoneError(`ps ${args.join(' ')}: its output has no PID column`, { code: 'EINVAL' });
  return `${[head, ...rows.filter((r) => pids.has(r.trim().split(/\s+/)[col]!))].join('\n')}\n`;
}

/** update: the linux.resources JSON (a file, or stdin as "-") and/or single values, applied to the running cgroup. */
export async function updateContainer(root: StateRoot, id: string, resources: OciResources): Promise<void> {
  const rec = root.load(id);
  if ((await statusOf(root, rec)) === 'stopped') throw new LxzoneError(`container ${id} is stopped`, { code: 'EINVAL' });
  const notes: string[] = [];
  const limits = resourcesToLimits(checkOciResources(resources), notes);
  if (!limits) return;
  await (await cgroupOf(rec)).update(limits);
}

/** runc's events --stats record (libcontainer's stats, the fields lxzone has). */
export async function statsEvent(root: StateRoot, id: string): Promise<Record<string, unknown>> {
  const rec = root.load(id);
  if ((await statusOf(root, rec)) === 'stopped') throw new LxzoneError(`container ${id} is stopped`, { code: 'ESRCH' });
  const u = await (await cgroupOf(rec)).usage();
  return {
    type: 'stats',
    id,
    data: {
      cpu: { usage: { total: u.cpu.usageUsec * 1000 }, throttling: { throttledPeriods: u.cpu.nrThrottled, throttledTime: u.cpu.throttledUsec * 1000 } },
      memory: {
        usage: { usage: u.memory.current, limit: u.memory.max ?? 0 },
        ...(u.memory.swapCurrent !== null ? { swap: { usage: u.memory.swapCurrent, limit: u.memory.swapMax ?? 0 } } : {}),
        oom_kill: u.memory.oomKills,
      },
      pids: { current: u.pids.current, limit: u.pids.max ?? 0 },
    },
  };
}
