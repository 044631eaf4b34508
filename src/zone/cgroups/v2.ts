// cgroup v2 backend: one directory in the unified hierarchy. Controllers are
// enabled in cgroup.subtree_control of every ancestor from the root down (the
// "no internal processes" rule: an ancestor holding processes other than the
// root refuses, and we say so instead of guessing another place).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import { V2_CONTROLLERS, type CgroupHost } from './detect.js';
import { parseKeyed, parseLimit, readCg, readPids, rmdirCg, writeCg } from './files.js';
import { CPU_PERIOD_US, cpusToQuota, validateLimits, sharesToWeight, weightToShares, type ZoneLimits, type ZoneUsage } from './limits.js';
import type { ZoneCgroup } from './types.js';

export class CgroupV2 implements ZoneCgroup {
  readonly version = 2 as const;
  readonly dirs: Record<string, string>;
  readonly #root: string;
  readonly #wanted: string[];

  constructor(
    readonly zone: string,
    readonly path: string,
    host: CgroupHost,
  ) {
    this.#root = host.v2Root!;
    this.dirs = { unified: join(this.#root, path) };
    this.#wanted = V2_CONTROLLERS.filter((c) => host.v2Controllers.includes(c));
    for (const need of ['memory', 'cpu', 'pids']) {
      if (!host.v2Controllers.includes(need)) {
        throw new LxzoneError(`cgroup v2 controller ${need} is not available at ${this.#root} (cgroup.controllers); zone caps need it`, {
          code: 'ENOTSUP',
        });
      }
    }
  }

  get #dir(): string {
    return this.dirs.unified;
  }

  async create(): Promise<void> {
    let dir = this.#root;
    for (const p of this.path.split('/').filter(Boolean)) {
      const enabled = (await readCg(join(dir, 'cgroup.subtree_control'))).split(/\s+/);
      const missing = this.#wanted.filter((c) => !enabled.includes(c));
      if (missing.length > 0) {
        try {
          await writeCg(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
        } catch (err) {
          throw new LxzoneError(
            `cannot enable ${missing.join(' ')} in ${dir}: ${(err as LxzoneError).code} (a cgroup with processes cannot delegate controllers; pass a cgroup parent that is not this process's own leaf)`,
            { code: (err as LxzoneError).code, where: dir, cause: err },
          );
        }
      }
      dir = join(dir, p);
      try {
        await fs.mkdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  async exists(): Promise<boolean> {
    return fs.access(this.#dir).then(
      () => true,
      () => false,
    );
  }

  procsFiles(): string[] {
    return [join(this.#dir, 'cgroup.procs')];
  }

  async addProcess(pid: number): Promise<void> {
    await writeCg(join(this.#dir, 'cgroup.procs'), pid);
  }

  async pids(): Promise<number[]> {
    return (await readPids(join(this.#dir, 'cgroup.procs'))).sort((a, b) => a - b);
  }

  async update(l: ZoneLimits): Promise<void> {
    validateLimits(l);
    const d = this.#dir;
    if (l.memory !== undefined) await writeCg(join(d, 'memory.max'), l.memory === null ? 'max' : l.memory);
    // Swap: explicit value, else 0 alongside a new memory cap (a hard cap), else unchanged.
    const swap = l.swap !== undefined ? l.swap : l.memory !== undefined ? (l.memory === null ? null : 0) : undefined;
    if (swap !== undefined) {
      const file = join(d, 'memory.swap.max');
      const has = await fs.access(file).then(() => true, () => false);
      if (has) await writeCg(file, swap === null ? 'max' : swap);
      else if (swap !== null && swap > 0) {
        throw new LxzoneError('resources.swap: this kernel has no swap accounting (memory.swap.max)', { where: 'resources.swap' });
      }
    }
    if (l.cpus !== undefined) await writeCg(join(d, 'cpu.max'), `${l.cpus === null ? 'max' : cpusToQuota(l.cpus)} ${CPU_PERIOD_US}`);
    if (l.cpuShares !== undefined) await writeCg(join(d, 'cpu.weight'), sharesToWeight(l.cpuShares ?? 1024));
    if (l.pids !== undefined) await writeCg(join(d, 'pids.max'), l.pids === null ? 'max' : l.pids);
  }

  async usage(): Promise<ZoneUsage> {
    const d = this.#dir;
    const r = (f: string) => readCg(join(d, f));
    const opt = (f: string) => r(f).catch(() => undefined);
    const [quota, period] = (await r('cpu.max')).split(' ');
    const cpuStat = parseKeyed(await r('cpu.stat'));
    const events = parseKeyed(await r('memory.events'));
    const swCur = await opt('memory.swap.current');
    const swMax = await opt('memory.swap.max');
    return {
      memory: {
        current: Number(await r('memory.current')),
        max: parseLimit(await r('memory.max')),
        swapCurrent: swCur === undefined ? null : Number(swCur),
        swapMax: swMax === undefined ? null : parseLimit(swMax),
        oomKills: events.get('oom_kill') ?? 0,
      },
      cpu: {
        usageUsec: cpuStat.get('usage_usec') ?? 0,
        cpus: quota === 'max' ? null : Number(quota) / Number(period),
        shares: weightToShares(Number(await r('cpu.weight'))),
        nrThrottled: cpuStat.get('nr_throttled') ?? 0,
        throttledUsec: cpuStat.get('throttled_usec') ?? 0,
      },
      pids: { current: Number(await r('pids.current')), max: parseLimit(await r('pids.max')) },
    };
  }

  async destroy(): Promise<void> {
    const d = this.#dir;
    if (!(await this.exists())) return;
    // cgroup.kill (Linux 5.14+) kills the whole subtree atomically, fork bombs included.
    const hasKill = await fs.access(join(d, 'cgroup.kill')).then(() => true, () => false);
    for (let round = 0; round < 50 && (await this.pids()).length > 0; round++) {
      if (hasKill) await writeCg(join(d, 'cgroup.kill'), 1);
      else {
        await writeCg(join(d, 'cgroup.freeze'), 1).catch(() => {});
        for (const pid of await this.pids()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {}
        }
        await writeCg(join(d, 'cgroup.freeze'), 0).catch(() => {});
      }
      await sleep(round < 5 ? 10 : 50);
    }
    const left = await this.pids();
    if (left.length > 0) throw new LxzoneError(`zone ${this.zone}: tasks ${left.join(' ')} survived SIGKILL; cgroup kept`, { code: 'EBUSY' });
    await rmdirCg(d);
  }
}
