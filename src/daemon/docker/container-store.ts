// What Docker knows about a container and lxzone does not: its 64-hex id,
// its Docker name, the create request as the client sent it (image, labels,
// the original Cmd/Entrypoint) and when it was created. One file per
// container in <state>/docker/containers/<zone>.json (written to a temp file
// and renamed, 0600); the zone holds everything else. The Docker name is a
// field of its own (`docker rename` changes it); the zone keeps the name it
// was made with, which keys its state, logs, cgroup, socket and lease.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { notFound } from './errors.js';

export interface ContainerMeta {
  Id: string;
  /** The zone's name: the Docker name it was created with, or its id's first 12 digits when that was taken or no zone name. */
  zone: string;
  /** The Docker name (without its leading "/") when it is not the zone's: set by a rename. */
  name?: string;
  Created: string;
  Image: string;
  /** The image's id (its config digest; the host's pseudo-image id for "host") when the container was created. */
  ImageID?: string;
  /** The create request's Config and HostConfig, as the client sent them. */
  Config: Record<string, unknown>;
  HostConfig: Record<string, unknown>;
  /** Set while the container is paused (its cgroup frozen). */
  paused?: boolean;
  /** The StartedAt of a run in which the OOM killer took one of its processes (State.OOMKilled of a running container). */
  oomRun?: string;
  /** Whether the OOM killer took one of the last ended run's processes (State.OOMKilled of a stopped container). */
  oomKilled?: boolean;
}

/** A container's Docker name, without the leading "/". */
export const dockerName = (m: ContainerMeta): string => m.name ?? m.zone;

export class ContainerStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'docker', 'containers');
  }

  private file(zone: string): string {
    return join(this.dir, `${zone}.json`);
  }

  static newId(): string {
    return randomBytes(32).toString('hex');
  }

  save(m: ContainerMeta): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file(m.zone)}.tmp`;
    writeFileSync(tmp, JSON.stringify(m), { mode: 0o600 });
    renameSync(tmp, this.file(m.zone));
  }

  remove(zone: string): void {
    rmSync(this.file(zone), { force: true });
  }

  list(): ContainerMeta[] {
    if (!existsSync(this.dir)) return [];
    const out: ContainerMeta[] = [];
    for (const f of readdirSync(this.dir).filter((n) => n.endsWith('.json'))) {
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as ContainerMeta);
      } catch {
        // A half-written file of a create that died: not a container.
      }
    }
    return out.sort((a, b) => b.Created.localeCompare(a.Created));
  }

  /** By full id, unique id prefix or name (with or without "/"), as dockerd resolves them. */
  find(ref: string): ContainerMeta | undefined {
    const all = this.list();
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const exact = all.find((m) => m.Id === ref) ?? all.find((m) => dockerName(m) === name);
    if (exact) return exact;
    if (/^[0-9a-f]{1,64}$/.test(ref)) {
      const hits = all.filter((m) => m.Id.startsWith(ref));
      if (hits.length === 1) return hits[0];
    }
    return undefined;
  }

  /** The container that is the zone `zone` (hooks of the zone manager name zones). */
  byZone(zone: string): ContainerMeta | undefined {
    return this.list().find((m) => m.zone === zone);
  }

  get(ref: string): ContainerMeta {
    const m = this.find(ref);
    if (!m) throw notFound(`No such container: ${ref}`);
    return m;
  }
}
