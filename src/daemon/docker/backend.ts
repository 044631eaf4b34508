// What the Docker handlers act on: the daemon's ZoneManager (the zones), the
// lifecycle options (create goes through createZoneWith, the one route every
// front end uses) and the Docker-only metadata of each container.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { detectCgroups } from '../../zone/cgroups/index.js';
import type { ZoneManager } from '../../zone/lifecycle/manager.js';
import { ipamDir, type LifecycleOptions } from '../../zone/lifecycle/options.js';
import { NetworkStore } from '../../zone/network/networks.js';
import { ContainerStore, dockerName, type ContainerMeta } from './container-store.js';
import { DockerImages } from './image-model.js';
import { DockerEvents } from './events.js';
import { OomWatch } from './oom.js';

export class DockerBackend {
  readonly containers: ContainerStore;
  readonly images: DockerImages;
  readonly events = new DockerEvents();
  /** The user-defined networks (src/zone/network/networks.ts). */
  readonly networks: NetworkStore;
  /** The networks' DNS servers (src/daemon/dns/): told when a network comes or goes. */
  dns?: { refresh(): Promise<void> };
  private readonly oom: OomWatch;
  #volumesQueue: Promise<unknown> = Promise.resolve();

  /**
   * Runs `fn` alone among the daemon's volume changes: a create that names a volume (from making it to
   * the zone's config naming it) and volume rm/prune (from the check that nothing names it to its
   * removal), so a removal never takes a volume a concurrent create has just taken as existing.
   */
  withVolumes<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.#volumesQueue.then(fn, fn);
    this.#volumesQueue = run.catch(() => undefined);
    return run;
  }

  constructor(
    readonly manager: ZoneManager,
    readonly opts: LifecycleOptions,
    readonly log: (line: string) => void,
  ) {
    this.containers = new ContainerStore(opts.store.stateDir);
    this.images = new DockerImages(opts.store);
    this.networks = new NetworkStore(ipamDir(opts.store));
    // A container's own end (its process exited, was killed, or was stopped) is its die event,
    // and a boot by its restart policy its start, as dockerd reports them; not only what the API did.
    const emit = (name: string, action: string, extra: Record<string, string> = {}) => {
      const m = this.containers.byZone(name);
      if (!m) return; // a zone that is no Docker container
      this.events.emit('container', action, m.Id, { name: dockerName(m), image: m.Image, ...((m.Config.Labels as Record<string, string> | null) ?? {}), ...extra });
    };
    manager.hooks?.ended.add((name, end) => emit(name, 'die', { exitCode: String(end.exitCode) }));
    manager.hooks?.restarted.add((name) => emit(name, 'start'));
    // A kill by the OOM killer at the container's memory cap (oom.ts).
    // State.OOMKilled: set by a kill in the current run, kept when the run ends, cleared by the next start (as dockerd).
    const noteOom = (name: string, patch: Partial<ContainerMeta>) => {
      const m = this.containers.byZone(name);
      if (m) this.containers.save({ ...m, ...patch });
    };
    this.oom = new OomWatch(
      manager,
      () => this.containers.list().map((m) => m.zone),
      (name, startedAt) => {
        if (startedAt !== undefined) noteOom(name, { oomRun: startedAt });
        emit(name, 'oom');
      },
      (name, killed) => noteOom(name, { oomKilled: killed }),
    );
    manager.hooks?.ending.add((name) => this.oom.ending(name));
  }

  close(): void {
    this.oom.stop();
  }

  engineId(): string {
    return createHash('sha256').update(this.opts.store.stateDir).digest('hex').slice(0, 32);
  }

  rootDir(): string {
    return join(this.opts.store.stateDir, 'docker');
  }

  cgroupVersion(): string {
    try {
      return String(detectCgroups().version);
    } catch {
      return '';
    }
  }

  imageCount(): number {
    return this.images.count();
  }

  async counts(): Promise<{ total: number; running: number; paused: number }> {
    const metas = this.containers.list();
    let running = 0;
    let paused = 0;
    for (const m of metas) {
      if (!this.manager.runningNames().includes(m.zone)) continue;
      if (m.paused) paused++;
      else running++;
    }
    return { total: metas.length, running, paused };
  }
}
