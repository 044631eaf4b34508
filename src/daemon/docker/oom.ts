// dockerd's `oom` event: a process of a running container was killed by the
// kernel's OOM killer because the container's cgroup reached its memory cap.
// The count is the kernel's own: oom_kill in memory.events (cgroup v2) or in
// memory.oom_control (v1, Linux >= 4.13), read once a second for running
// containers (one small read each; inotify would not cover v1, and an
// eventfd per container for v1 is more machinery than the event is worth).
// A zone booted by this daemon starts from 0 (its cgroup is made at each
// boot); for one re-attached after a daemon restart the first read is the
// base (a kill while no daemon ran is not reported). A kill that ends the
// container is seen by a last read before its cgroup goes (the manager's
// `ending` hook); a container that ends within a second of its start, before
// the watch's first look, is read there too: its cgroup was made at its boot
// by this daemon, so any kill in it is news.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { detectCgroups } from '../../zone/cgroups/index.js';
import type { ZoneManager } from '../../zone/lifecycle/manager.js';

const INTERVAL_MS = 1000;

/** The OOM kill count of a zone's cgroup, or undefined when it cannot be read. */
async function oomKills(cg: { version: 1 | 2; path: string }): Promise<number | undefined> {
  const host = detectCgroups();
  const file = cg.version === 2 ? join(host.v2Root ?? '/sys/fs/cgroup', cg.path, 'memory.events') : join(host.v1Mounts.get('memory') ?? '', cg.path, 'memory.oom_control');
  try {
    const m = /^oom_kill (\d+)$/m.exec(await readFile(file, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // the zone ended between the check and the read
  }
}

export class OomWatch {
  private readonly timer: NodeJS.Timeout;
  /** Per running zone: its cgroup and the last count seen. */
  private readonly seen = new Map<string, { cg: { version: 1 | 2; path: string }; kills: number | undefined; startedAt?: string; killed?: boolean }>();
  private busy = false;
  /** When this daemon began watching: zones booted since have cgroups it saw made. */
  private readonly since = Date.now();

  constructor(
    private readonly manager: ZoneManager,
    /** The zones that are Docker containers. */
    private readonly zones: () => string[],
    /** A kill seen in the run that started at `startedAt`. */
    private readonly onOom: (zone: string, startedAt: string | undefined) => void,
    /** The run ended; whether the OOM killer took one of its processes (dockerd's State.OOMKilled). */
    private readonly onRunEnd: (zone: string, oomKilled: boolean) => void = () => undefined,
  ) {
    this.timer = setInterval(() => void this.check(), INTERVAL_MS);
    this.timer.unref();
  }

  /** One zone's count against the last seen; the oom event when it grew. */
  private async compare(zone: string): Promise<void> {
    const entry = this.seen.get(zone);
    if (!entry) return;
    const kills = await oomKills(entry.cg);
    if (kills !== undefined && entry.kills !== undefined && kills > entry.kills) {
      entry.killed = true;
      this.onOom(zone, entry.startedAt);
    }
    if (kills !== undefined) entry.kills = kills;
  }

  /** The zone is ending, its cgroup not yet removed: a kill that ended it is seen here. */
  async ending(zone: string): Promise<void> {
    if (!this.seen.has(zone) && this.zones().includes(zone)) {
      const d = await this.manager.inspect(zone).catch(() => undefined);
      if (d?.cgroup && d.startedAt !== undefined && Date.parse(d.startedAt) >= this.since) this.seen.set(zone, { cg: d.cgroup, kills: 0, startedAt: d.startedAt });
    }
    await this.compare(zone);
    const entry = this.seen.get(zone);
    this.seen.delete(zone);
    if (this.zones().includes(zone)) this.onRunEnd(zone, entry?.killed === true);
  }

  private async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const running = new Set(this.manager.runningNames());
      for (const zone of this.seen.keys()) if (!running.has(zone)) this.seen.delete(zone);
      for (const zone of this.zones()) {
        if (!running.has(zone)) continue;
        if (!this.seen.has(zone)) {
          const d = await this.manager.inspect(zone).catch(() => undefined);
          if (!d?.cgroup) continue;
          // Booted by this daemon: its cgroup is new (made at each boot), so every kill in it is news.
          const fresh = d.startedAt !== undefined && Date.parse(d.startedAt) >= this.since;
          this.seen.set(zone, { cg: d.cgroup, kills: fresh ? 0 : await oomKills(d.cgroup), ...(d.startedAt !== undefined ? { startedAt: d.startedAt } : {}) });
          if (!fresh) continue;
        }
        await this.compare(zone);
      }
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
