// pause/unpause (the zone's cgroup frozen and thawed: freezer.state on
// cgroup v1, cgroup.freeze on v2) and top (the processes of the zone's
// cgroup, as `ps -ef` shows them on the host).
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { detectCgroups } from '../../zone/cgroups/index.js';
import type { DockerBackend } from './backend.js';
import { noContent } from './context.js';
import { badRequest, conflict, DockerError } from './errors.js';
import type { Route } from './router.js';

async function cgroupOf(b: DockerBackend, zone: string, id: string): Promise<{ version: 1 | 2; path: string }> {
  if (!b.manager.runningNames().includes(zone)) throw conflict(`Container ${id} is not running`);
  const d = await b.manager.inspect(zone);
  if (!d.cgroup) throw new DockerError(500, `container ${id} has no cgroup of its own`);
  return d.cgroup;
}

function freezerFile(cg: { version: 1 | 2; path: string }): { file: string; frozen: string; thawed: string } {
  const host = detectCgroups();
  if (cg.version === 2) return { file: join(host.v2Root!, cg.path, 'cgroup.freeze'), frozen: '1', thawed: '0' };
  const mount = host.v1Mounts.get('freezer');
  if (!mount) throw new DockerError(500, 'the cgroup v1 freezer is not mounted');
  return { file: join(mount, cg.path, 'freezer.state'), frozen: 'FROZEN', thawed: 'THAWED' };
}

export function pauseRoutes(b: DockerBackend): Route[] {
  const freeze = async (ref: string, on: boolean) => {
    const m = b.containers.get(ref);
    const cg = await cgroupOf(b, m.zone, m.Id);
    if (on === (m.paused === true)) throw conflict(`Container ${m.Id} is ${on ? 'already paused' : 'not paused'}`);
    const f = freezerFile(cg);
    writeFileSync(f.file, on ? f.frozen : f.thawed);
    // v1 passes through FREEZING; the answer waits until every task is frozen.
    for (let i = 0; on && cg.version === 1 && i < 100 && readFileSync(f.file, 'utf8').trim() !== 'FROZEN'; i++) await sleep(10);
    b.containers.save({ ...m, paused: on });
    return noContent();
  };
  return [
    { method: 'POST', path: '/containers/:id/pause', doc: "pause: freezes the zone's cgroup", handler: (ctx) => freeze(ctx.params.id ?? '', true) },
    { method: 'POST', path: '/containers/:id/unpause', doc: "unpause: thaws the zone's cgroup", handler: (ctx) => freeze(ctx.params.id ?? '', false) },
    {
      method: 'GET',
      path: '/containers/:id/top',
      doc: "top: the zone's processes (its cgroup's), ps -ef columns; ps_args other than -ef refused",
      handler: async (ctx) => {
        const m = b.containers.get(ctx.params.id ?? '');
        const args = ctx.query.get('ps_args') || '-ef';
        if (args !== '-ef') throw badRequest(`ps_args ${JSON.stringify(args)}: lxzone answers top with -ef only`);
        const cg = await cgroupOf(b, m.zone, m.Id);
        const host = detectCgroups();
        const dir = cg.version === 2 ? join(host.v2Root!, cg.path) : join(host.v1Mounts.get('pids') ?? host.v1Mounts.get('memory')!, cg.path);
        const pids = new Set(readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean));
        const { stdout } = await promisify(execFile)('ps', ['-ef'], { maxBuffer: 64 * 1024 * 1024 });
        const [head, ...rows] = stdout.trimEnd().split('\n');
        const titles = head!.trim().split(/\s+/);
        const procs = rows
          .map((r) => {
            const cols = r.trim().split(/\s+/);
            return [...cols.slice(0, titles.length - 1), cols.slice(titles.length - 1).join(' ')];
          })
          .filter((cols) => pids.has(cols[1]!));
        return { Titles: titles, Processes: procs };
      },
    },
  ];
}

/** Before a stop, kill or rm: a frozen zone's processes cannot take a signal, so it is thawed first. */
export async function thawIfPaused(b: DockerBackend, ref: string): Promise<void> {
  const m = b.containers.get(ref);
  if (!m.paused) return;
  try {
    const d = await b.manager.inspect(m.zone);
    if (d.cgroup) {
      const f = freezerFile(d.cgroup);
      writeFileSync(f.file, f.thawed);
    }
  } catch {
    // Not running any more: nothing is frozen.
  }
  b.containers.save({ ...m, paused: false });
}
