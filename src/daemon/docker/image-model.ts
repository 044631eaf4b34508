// Docker's images over lxzone's image store (src/zone/image/store): the
// store's records seen as dockerd shows them (the image id is the config
// blob's digest, tags are the store's references in their short form), plus
// one pseudo-image, "host" (also "lxzone/host"): the host's root mounted
// read-only, as lxzone's own zones default to. Lookups, lists and removal
// only; pulling is image-pull.ts.
import { createHash } from 'node:crypto';
import type { ImageConfig } from '../../zone/image/manifests.js';
import { ImageStore, type ImageRecord } from '../../zone/image/store/images.js';
import { formatImageRef, parseImageRef, shortImageRef } from '../../zone/image/store/reference.js';
import type { ZoneStore } from '../../zone/state/store.js';
import { badRequest, DockerError, notFound } from './errors.js';

const HOST_ID = `sha256:${createHash('sha256').update('lxzone host root').digest('hex')}`;
const HOST_NAMES = ['host:latest', 'lxzone/host:latest'];
export const HOST_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** An image as the Docker handlers use it: the host's root, or a record of the store. */
export type DockerImage = { kind: 'host'; id: string } | { kind: 'store'; id: string; record: ImageRecord; ref: string };

/** "busybox" → "docker.io/library/busybox:latest" (a reference that does not parse stays as it is). */
export function canonicalRef(ref: string): string {
  try {
    return formatImageRef(parseImageRef(ref));
  } catch {
    return ref; // not a reference (an id prefix, or garbage the caller refuses)
  }
}

/** The config blob as the registry gave it (Created, Labels, diff_ids…), if it is readable. */
interface ConfigBlob {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  config?: { Labels?: Record<string, string> | null; ExposedPorts?: Record<string, object> | null; Volumes?: Record<string, object> | null; StopSignal?: string };
  rootfs?: { diff_ids?: string[] };
}

/** Docker's reference filter: a glob (path.Match) over "name:tag", or over the name alone when it has no tag. */
export function refMatches(pattern: string, tag: string): boolean {
  const glob = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  const name = tag.replace(/:[^/:]+$/, '');
  const p = pattern.replace(/^docker\.io\/(library\/)?/, '');
  return glob(p).test(tag) || glob(p).test(name);
}

export class DockerImages {
  readonly store: ImageStore;

  constructor(zones: ZoneStore) {
    this.store = new ImageStore({ stateDir: zones.stateDir, runtimeDir: zones.runtimeDir });
  }

  find(ref: string): DockerImage | undefined {
    const r = ref.replace(/^docker\.io\/(library\/)?/, '');
    if (HOST_NAMES.includes(r) || HOST_NAMES.includes(`${r}:latest`) || ref === HOST_ID || (ref.length >= 6 && HOST_ID.slice(7).startsWith(ref.replace(/^sha256:/, '')))) {
      return { kind: 'host', id: HOST_ID };
    }
    const record = this.store.resolve(ref);
    if (!record) return undefined;
    // The name the zone records: the reference used when it names this image, else where the image came from.
    const canonical = canonicalRef(ref);
    return { kind: 'store', id: record.config, record, ref: this.store.refs()[canonical] === record.digest ? canonical : record.source };
  }

  get(ref: string): DockerImage {
    const i = this.find(ref);
    if (!i) throw notFound(`No such image: ${ref}`);
    return i;
  }

  /** What the image declares for the process (nothing for the host's root). */
  config(i: DockerImage): ImageConfig {
    return i.kind === 'store' ? i.record.image : { env: { PATH: HOST_PATH_ENV.slice(5) } };
  }

  count(): number {
    return this.store.list().length + 1;
  }

  private blob(rec: ImageRecord): ConfigBlob {
    try {
      return JSON.parse(this.store.blobs.read(rec.config).toString('utf8')) as ConfigBlob;
    } catch {
      return {}; // the record stands on its own; the blob only adds detail
    }
  }

  /** Tags and digests as dockerd lists them: "name:tag" and "name@sha256:…". */
  private names(rec: ImageRecord): { tags: string[]; digests: string[] } {
    const refs = Object.entries(this.store.refs()).filter(([, d]) => d === rec.digest).map(([r]) => shortImageRef(r));
    const repos = new Set(refs.map((r) => r.replace(/@.*$/, '').replace(/:[^/:]+$/, '')));
    return { tags: refs.filter((r) => !r.includes('@')).sort(), digests: [...repos].sort().map((r) => `${r}@${rec.digest}`) };
  }

  private created(rec: ImageRecord, blob: ConfigBlob): string {
    return blob.created && !Number.isNaN(Date.parse(blob.created)) ? blob.created : rec.storedAt;
  }

  /** `docker images [--filter reference=… dangling=… label=…] [NAME]`: GET /images/json. */
  summaries(filters: Record<string, string[]> = {}) {
    for (const k of Object.keys(filters)) if (!['reference', 'dangling', 'label'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    return this.allSummaries().filter((s) => {
      const tags = s.RepoTags.filter((t) => t !== '<none>:<none>');
      if (filters.reference && !filters.reference.some((p) => tags.some((t) => refMatches(p, t)))) return false;
      if (filters.dangling && !filters.dangling.some((d) => (d === 'true' || d === '1') === (tags.length === 0))) return false;
      const labels = s.Labels as Record<string, string>;
      if (filters.label && !filters.label.every((l) => (l.includes('=') ? labels[l.slice(0, l.indexOf('='))] === l.slice(l.indexOf('=') + 1) : l in labels))) return false;
      return true;
    });
  }

  private allSummaries() {
    const host = { Id: HOST_ID, ParentId: '', RepoTags: HOST_NAMES, RepoDigests: [], Created: 0, Size: 0, SharedSize: -1, VirtualSize: 0, Labels: {}, Containers: -1 };
    const stored = this.store.list().map((img) => {
      const blob = this.blob(img);
      const { tags, digests } = this.names(img);
      return {
        Id: img.config,
        ParentId: '',
        RepoTags: tags.length ? tags : ['<none>:<none>'],
        RepoDigests: digests,
        Created: Math.floor(Date.parse(this.created(img, blob)) / 1000),
        Size: img.size,
        SharedSize: -1,
        VirtualSize: img.size,
        Labels: blob.config?.Labels ?? {},
        Containers: img.users.length,
      };
    });
    return [...stored, host];
  }

  /** `docker image inspect`: GET /images/NAME/json. */
  inspect(i: DockerImage) {
    const env = (c: ImageConfig) => Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`);
    if (i.kind === 'host') {
      return {
        Id: HOST_ID,
        RepoTags: HOST_NAMES,
        RepoDigests: [],
        Parent: '',
        Comment: "the host's root, read-only (lxzone)",
        Created: new Date(0).toISOString(),
        Config: { Env: [HOST_PATH_ENV], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {} },
        Architecture: process.arch === 'x64' ? 'amd64' : process.arch,
        Os: 'linux',
        Size: 0,
        GraphDriver: { Name: 'lxzone', Data: {} },
        RootFS: { Type: 'layers', Layers: [] },
        Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
      };
    }
    const rec = i.record;
    const blob = this.blob(rec);
    const c = rec.image;
    const { tags, digests } = this.names(rec);
    const size = rec.layers.reduce((n, l) => n + l.size, 0);
    return {
      Id: rec.config,
      RepoTags: tags,
      RepoDigests: digests,
      Parent: '',
      Comment: '',
      Created: this.created(rec, blob),
      Author: blob.author ?? '',
      Config: {
        Env: env(c),
        Cmd: c.cmd ?? null,
        Entrypoint: c.entrypoint ?? null,
        WorkingDir: c.workingDir ?? '',
        User: c.user ?? '',
        Labels: blob.config?.Labels ?? null,
        ExposedPorts: blob.config?.ExposedPorts ?? null,
        Volumes: blob.config?.Volumes ?? null,
        ...(blob.config?.StopSignal ? { StopSignal: blob.config.StopSignal } : {}),
      },
      Architecture: rec.platform?.architecture ?? blob.architecture ?? '',
      Os: rec.platform?.os ?? 'linux',
      Size: size,
      VirtualSize: size,
      GraphDriver: { Name: 'lxzone', Data: { Manifest: rec.digest, Source: rec.source } },
      RootFS: { Type: 'layers', Layers: blob.rootfs?.diff_ids ?? rec.layers.map((l) => l.digest) },
      Metadata: { LastTagTime: rec.storedAt },
    };
  }

  /** `docker tag SOURCE TARGET`: POST /images/SOURCE/tag?repo=&tag= (the store's reference, under its lock). */
  async tag(source: string, repo: string | null, tag: string | null): Promise<string> {
    const i = this.get(source);
    if (i.kind === 'host') throw badRequest('the image "host" is the host\'s root: it cannot be tagged');
    if (!repo) throw badRequest('repository name must have at least one component');
    let canonical: string;
    try {
      const ref = parseImageRef(tag ? `${repo}:${tag}` : repo);
      if (ref.digest !== undefined) throw new Error('refusing to create a tag with a digest reference');
      canonical = formatImageRef(ref);
    } catch (e) {
      throw badRequest(`invalid reference format: ${(e as Error).message}`);
    }
    await this.store.locked('docker tag', () => this.store.addImage(i.record, [canonical]));
    return shortImageRef(canonical);
  }

  /**
   * `docker history`: GET /images/NAME/history, newest first, from the
   * config's history (one entry per layer when it has none). Sizes are the
   * layer blobs' (compressed), the store keeps no other.
   */
  history(i: DockerImage) {
    if (i.kind === 'host') return [{ Id: HOST_ID, Created: 0, CreatedBy: "the host's root (lxzone)", Tags: HOST_NAMES, Size: 0, Comment: '' }];
    const rec = i.record;
    const blob = this.blob(rec) as ConfigBlob & { history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[] };
    const steps = blob.history && blob.history.length > 0 ? blob.history : rec.layers.map(() => ({}) as { created?: string; created_by?: string; comment?: string; empty_layer?: boolean });
    let layer = 0;
    const rows = steps.map((h) => {
      const size = h.empty_layer ? 0 : (rec.layers[layer++]?.size ?? 0);
      const created = h.created && !Number.isNaN(Date.parse(h.created)) ? h.created : this.created(rec, blob);
      return { Id: '<missing>', Created: Math.floor(Date.parse(created) / 1000), CreatedBy: h.created_by ?? '', Tags: null as string[] | null, Size: size, Comment: h.comment ?? '' };
    });
    rows.reverse();
    if (rows[0]) {
      rows[0].Id = rec.config;
      rows[0].Tags = this.names(rec).tags;
    }
    return rows;
  }

  /** `docker image prune [-a]`: POST /images/prune; filter dangling only (false: every unused image, as -a). */
  async prune(filters: Record<string, string[]>) {
    for (const k of Object.keys(filters)) if (k !== 'dangling') throw badRequest(`invalid filter '${k}' (lxzone's image prune takes dangling only)`);
    const all = (filters.dangling ?? []).some((d) => d === 'false' || d === '0');
    const configs = new Map(this.store.list().map((r) => [r.digest, r.config]));
    const r = await this.store.locked('docker image prune', () => this.store.prune(all));
    const deleted = r.images.flatMap((d) => [{ Deleted: configs.get(d) ?? d }, { Deleted: d }]);
    return { ImagesDeleted: [...r.untagged.map((u) => ({ Untagged: u })), ...deleted], SpaceReclaimed: r.bytes };
  }

  /** `docker rmi [-f]`: untag, and delete when nothing names or uses the image. */
  async remove(ref: string, force: boolean): Promise<Array<{ Untagged: string } | { Deleted: string }>> {
    const i = this.get(ref);
    if (i.kind === 'host') throw new DockerError(409, 'conflict: the image "host" is the host\'s root; it cannot be removed');
    const config = i.record.config;
    const out = await this.store.locked('docker rmi', () => this.store.remove(ref, force));
    return [...out.untagged.map((t) => ({ Untagged: t })), ...(out.deleted ? [{ Deleted: config }, { Deleted: out.deleted }] : [])];
  }
}
