// Images, until lxzone's image store serves Docker: one local image, "host"
// (also "lxzone/host"), which is the host's root mounted read-only in the
// container, as lxzone's zones default to. `docker run host CMD` runs CMD from
// the host's /usr; any other image is "No such image" (so the client tries a
// pull, which is refused with a clear message).
import { createHash } from 'node:crypto';
import type { Route } from './router.js';
import { notFound, notImplemented } from './errors.js';

export interface LocalImage {
  names: string[];
  id: string;
  created: number;
}

const HOST_ID = `sha256:${createHash('sha256').update('lxzone host root').digest('hex')}`;

export const LOCAL_IMAGES: LocalImage[] = [{ names: ['host:latest', 'lxzone/host:latest'], id: HOST_ID, created: 0 }];

/** "host" → "host:latest"; "docker.io/library/x" → "x:latest". */
export function normalizeRef(ref: string): string {
  let r = ref.replace(/^docker\.io\//, '').replace(/^library\//, '');
  if (!/:[^/]+$/.test(r) && !r.includes('@')) r = `${r}:latest`;
  return r;
}

export function findImage(ref: string): LocalImage | undefined {
  const n = normalizeRef(ref);
  return LOCAL_IMAGES.find((i) => i.names.includes(n) || i.id === ref || i.id === `sha256:${ref}` || (ref.length >= 12 && i.id.slice(7).startsWith(ref)));
}

export function getImage(ref: string): LocalImage {
  const i = findImage(ref);
  if (!i) throw notFound(`No such image: ${ref}`);
  return i;
}

function summary(i: LocalImage) {
  return { Id: i.id, ParentId: '', RepoTags: i.names, RepoDigests: [], Created: i.created, Size: 0, SharedSize: -1, VirtualSize: 0, Labels: {}, Containers: -1 };
}

function inspect(i: LocalImage) {
  return {
    Id: i.id,
    RepoTags: i.names,
    RepoDigests: [],
    Parent: '',
    Comment: "the host's root, read-only (lxzone)",
    Created: new Date(i.created * 1000).toISOString(),
    Config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: null, Entrypoint: null, WorkingDir: '', Labels: {} },
    Architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    Os: 'linux',
    Size: 0,
    GraphDriver: { Name: 'lxzone', Data: {} },
    RootFS: { Type: 'layers', Layers: [] },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

export function imageRoutes(): Route[] {
  return [
    { method: 'GET', path: '/images/json', handler: () => LOCAL_IMAGES.map(summary), doc: 'lists "host" (the host root, read-only) until the image store serves Docker' },
    { method: 'GET', path: '/images/*', doc: 'inspect an image ("host" only)', handler: (ctx) => inspect(getImage((ctx.params['*'] ?? '').replace(/\/json$/, ''))) },
    {
      method: 'POST',
      path: '/images/create',
      doc: 'pull: not yet (answers 501)',
      handler: (ctx) => {
        const tag = ctx.query.get('tag');
        const ref = `${ctx.query.get('fromImage') ?? 'images'}${tag ? (tag.startsWith('sha256:') ? `@${tag}` : `:${tag}`) : ''}`;
        throw notImplemented(`lxzone cannot pull ${ref} through the Docker API yet; use the local image "host" (the host's root, read-only)`);
      },
    },
  ];
}
