// cgroup v1 backend: the zone gets the same relative path in each mounted
// controller hierarchy (memory, cpu, cpuacct, pids, cpuset, freezer).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import type { CgroupHost } from './detect.js';
import { V1_CONTROLLERS } from './detect.js';
import { parseKeyed, parseLimit, readCg, readPids, rmdirCg, writeCg } from './files.js';
import { CPU_PERIOD_US, cpusToQuota, validateLimits, type ZoneLimits, type ZoneUsage } from './limits.js';
import type { ZoneCgroup } from './types.js';

/** mkdir -p inside one hierarchy; new cpuset levels inherit cpus/mems (v1 refuses tasks in an empty cpuset). */
async function mkdirHierarchy(mount: string, rel: string, isCpuset: boolean, retry = 0): Promise<void> {
  const parts = rel.split('/').filter(Boolean);
  let dir = mount;
  for (const p of parts) {
    const parent = dir;
    dir = join(dir, p);
    try {
      await fs.mkdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOENT: a concurrent pruneCgroupParent() removed an empty ancestor; start over once more.
      if (code === 'ENOENT' && retry < 3) return mkdirHierarchy(mount, rel, isCpuset, retry + 1);
      if (code !== 'EEXIST') throw err;
    }
    if (isCpuset) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if ((await readCg(join(dir, f))) === '') await writeCg(join(dir, f), await readCg(join(parent, f)));
      }
    }
  }
}

export class CgroupV1 implements ZoneCgroup {
  readonly version = 1 as const;
  readonly dirs: Record<string, string>;

  constructor(
    readonly zone: string,
    readonly path: string,
    host: CgroupHost,
  ) {
    this.dirs = {};
    for (const c of V1_CONTROLLERS) {
      const mount = host.v1Mounts.get(c);
      if (mount) this.dirs[c] = join(mount, path);
    }
    for (const need of ['memory', 'cpu', 'cpuacct', 'pids']) {
      if (!this.dirs[need]) throw new LxzoneError(`cgroup v1 controller ${need} is not mounted; zone caps need it`, { code: 'ENOTSUP' });
    }
  }

  /** Distinct directories (co-mounted controllers share one). */
  #uniqueDirs(): string[] {
    return [...new Set(Object.values(this.dirs))];
  }

  async create(): Promise<void> {
    for (const [c, dir] of Object.entries(this.dirs)) {
      const mount = dir.slice(0, dir.length - this.path.length);
      await mkdirHierarchy(mount, this.path, c === 'cpuset');
    }
  }

  async exists(): Promise<boolean> {
    return fs.access(this.dirs.memory).then(
      () => true,
      () => false,
    );
  }

  procsFiles(): string[] {
    return this.#uniqueDirs().map((d) => join(d, 'cgroup.procs'));
  }

  async addProcess(pid: number): Promise<void> {
    for (const f of this.procsFiles()) await writeCg(f, pid);
  }

  async pids(): Promise<number[]> {
    const all = new Set<number>();
    for (const f of this.procsFiles()) for (const p of await readPids(f)) all.add(p);
    return [...all].sort((a, b) => a - b);
  }

  async update(l: ZoneLimits): Promise<void> {
    validateLimits(l);
    const mem = this.dirs.memory;
    if (l.memory !== undefined || l.swap !== undefined) {
      const curMem = parseLimit(await readCg(join(mem, 'memory.limit_in_bytes')));
      const newMem = l.memory === undefined ? curMem : l.memory;
      const hasMemsw = await fs.access(join(mem, 'memory.memsw.limit_in_bytes')).then(() => true, () => false);
      // memsw is memory+swap; default swap with a cap is 0 (a hard cap), unlimited without a cap.
      let newSwap: number | null;
      if (l.swap !== undefined) newSwap = l.swap;
      else if (l.memory !== undefined) newSwap = l.memory === null ? null : 0;
      else newSwap = null;
      if (newSwap !== null && newSwap > 0 && !hasMemsw) {
        throw new LxzoneError('resources.swap: this kernel has no swap accounting (memory.memsw.*); only swap 0 is enforceable', { where: 'resources.swap' });
      }
      const newMemsw = newMem === null || newSwap === null ? -1 : newMem + newSwap;
      // The kernel keeps limit <= memsw at every step: raise memsw first when growing, lower memory first when shrinking.
      const writeMem = () => writeCg(join(mem, 'memory.limit_in_bytes'), newMem === null ? -1 : newMem);
      const writeSw = () => (hasMemsw ? writeCg(join(mem, 'memory.memsw.limit_in_bytes'), newMemsw) : Promise.resolve());
      const curMemsw = hasMemsw ? parseLimit(await readCg(join(mem, 'memory.memsw.limit_in_bytes'))) : null;
      if (newMemsw === -1 || (curMemsw !== null && newMemsw > curMemsw)) {
        await writeSw();
        await writeMem();
      } else {
        await writeMem();
        await writeSw();
      }
    }
    if (l.cpus !== undefined) {
      await writeCg(join(this.dirs.cpu, 'cpu.cfs_period_us'), CPU_PERIOD_US);
      await writeCg(join(this.dirs.cpu, 'cpu.cfs_quota_us'), l.cpus === null ? -1 : cpusToQuota(l.cpus));
    }
    if (l.cpuShares !== undefined) await writeCg(join(this.dirs.cpu, 'cpu.shares'), l.cpuShares ?? 1024);
    if (l.pids !== undefined) await writeCg(join(this.dirs.pids, 'pids.max'), l.pids === null ? 'max' : l.pids);
  }

  async usage(): Promise<ZoneUsage> {
    const mem = this.dirs.memory;
    const r = (dir: string, f: string) => readCg(join(dir, f));
    const opt = (dir: string, f: string) => r(dir, f).catch(() => undefined);
    const max = parseLimit(await r(mem, 'memory.limit_in_bytes'));
    const current = Number(await r(mem, 'memory.usage_in_bytes'));
    const memswUse = await opt(mem, 'memory.memsw.usage_in_bytes');
    const memswMax = await opt(mem, 'memory.memsw.limit_in_bytes');
    const swMax = memswMax === undefined ? null : parseLimit(memswMax);
    const oom = parseKeyed(await r(mem, 'memory.oom_control'));
    const quota = Number(await r(this.dirs.cpu, 'cpu.cfs_quota_us'));
    const period = Number(await r(this.dirs.cpu, 'cpu.cfs_period_us'));
    const cpuStat = parseKeyed(await r(this.dirs.cpu, 'cpu.stat'));
    return {
      memory: {
        current,
        max,
        swapCurrent: memswUse === undefined ? null : Math.max(0, Number(memswUse) - current),
        swapMax: swMax === null || max === null ? null : swMax - max,
        oomKills: oom.get('oom_kill') ?? 0,
      },
      cpu: {
        usageUsec: Math.round(Number(await r(this.dirs.cpuacct, 'cpuacct.usage')) / 1000),
        cpus: quota > 0 ? quota / period : null,
        shares: Number(await r(this.dirs.cpu, 'cpu.shares')),
        nrThrottled: cpuStat.get('nr_throttled') ?? 0,
        throttledUsec: Math.round((cpuStat.get('throttled_time') ?? 0) / 1000),
      },
      pids: { current: Number(await r(this.dirs.pids, 'pids.current')), max: parseLimit(await r(this.dirs.pids, 'pids.max')) },
    };
  }

  async destroy(): Promise<void> {
    const freezer = this.dirs.freezer;
    for (let round = 0; round < 50; round++) {
      const pids = await this.pids();
      if (pids.length === 0) break;
      // Freeze first so a fork bomb cannot outrun the kill loop; SIGKILL is delivered on thaw.
      if (freezer) {
        await writeCg(join(freezer, 'freezer.state'), 'FROZEN').catch(() => {});
        for (let i = 0; i < 50 && (await readCg(join(freezer, 'freezer.state')).catch(() => 'FROZEN')) !== 'FROZEN'; i++) await sleep(10);
      }
      for (const pid of await this.pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      if (freezer) await writeCg(join(freezer, 'freezer.state'), 'THAWED').catch(() => {});
      await sleep(round < 5 ? 10 : 50);
    }
    const left = await this.pids();
    if (left.length > 0) throw new LxzoneError(`zone ${this.zone}: tasks ${left.join(' ')} survived SIGKILL; cgroup kept`, { code: 'EBUSY' });
    for (const dir of this.#uniqueDirs()) await rmdirCg(dir);
  }
}
