// The image endpoints over lxzone's image store (image-model.ts): list,
// inspect, history, tag, pull (image-pull.ts), save, load and import
// (image-archive.ts), remove, prune, and a clear "not supported" for what
// the store does not do through Docker (build, push).
import type { DockerBackend } from './backend.js';
import type { Ctx } from './context.js';
import { notImplemented } from './errors.js';
import { importHandler, loadHandler, saveHandler } from './image-archive.js';
import { pullHandler } from './image-pull.js';
import type { Route } from './router.js';

/** The image name of /images/NAME[/json]: a name may hold slashes and a registry's port. */
const imageName = (ctx: Ctx, suffix: RegExp) => decodeURIComponent((ctx.params['*'] ?? '').replace(suffix, ''));

export function imageRoutes(b: DockerBackend): Route[] {
  const unsupported = (what: string) => () => {
    throw notImplemented(`${what} is not supported by lxzone's Docker API yet`);
  };
  return [
    { method: 'GET', path: '/images/json', handler: (ctx) => b.images.summaries(ctx.filters()), doc: 'images: the image store\'s images, and "host" (the host\'s root, read-only); filters reference, dangling, label' },
    { method: 'POST', path: '/images/create', doc: "pull: into lxzone's image store (any registry lxzone pull reaches; X-Registry-Auth credentials), Docker's JSON progress; import (`fromSrc=-`, the body a rootfs tar, filed under repo:tag; no `changes`, no URL)", handler: (ctx) => (ctx.query.get('fromSrc') ? importHandler(b, ctx) : pullHandler(b, ctx)) },
    { method: 'POST', path: '/images/load', doc: 'load: a docker-archive (what docker save writes) or an OCI layout tar (what lxzone image save writes), plain or compressed, one image per archive; through lxzone image import\'s checks', handler: (ctx) => loadHandler(b, ctx) },
    { method: 'GET', path: '/images/get', doc: 'save (several names): one docker-archive tar; layers as stored (gzip/zstd, which docker load accepts)', handler: (ctx) => saveHandler(b, ctx, ctx.query.getAll('names')) },
    { method: 'POST', path: '/images/prune', doc: 'image prune: images no container uses and nothing names; filter dangling=false removes every unused image (-a); no until/label filters', handler: (ctx) => b.images.prune(ctx.filters()) },
    { method: 'POST', path: '/build', handler: unsupported('docker build'), doc: 'build: not supported (501)' },
    { method: 'GET', path: '/images/*', doc: 'image inspect (Id: the config digest, RepoTags, RepoDigests, Config: Env, Cmd, Entrypoint, WorkingDir, User, Labels, RootFS); NAME/history (from the config\'s history; sizes are the compressed layers\'); NAME/get (save)', handler: (ctx) => {
      // The last segment says which (a name may itself end in "get": NAME/get/json is its inspect).
      const raw = imageName(ctx, /$/);
      if (raw.endsWith('/get')) return saveHandler(b, ctx, [raw.slice(0, -4)]);
      if (raw.endsWith('/history')) return b.images.history(b.images.get(raw.slice(0, -8)));
      return b.images.inspect(b.images.get(imageName(ctx, /\/json$/)));
    } },
    { method: 'POST', path: '/images/*', doc: 'tag (NAME/tag?repo=&tag=: another reference of the store to the same image); push: not supported (501)', handler: async (ctx) => {
      const name = imageName(ctx, /$/);
      if (!name.endsWith('/tag')) return unsupported('docker push')();
      const tagged = await b.images.tag(name.slice(0, -4), ctx.query.get('repo'), ctx.query.get('tag'));
      b.events.emit('image', 'tag', tagged, { name: tagged });
      return { status: 201 };
    } },
    { method: 'DELETE', path: '/images/*', doc: 'rmi: untags; deletes the image when nothing names it and no container uses it (409 otherwise, -f untags anyway)', handler: async (ctx) => {
      const ref = imageName(ctx, /$/);
      const imageId = b.images.get(ref).id;
      const out = await b.images.remove(ref, ctx.flag('force'));
      // As dockerd: an untag per reference, then one delete of the image (its id), not one per digest the answer lists.
      for (const o of out) if ('Untagged' in o) b.events.emit('image', 'untag', imageId, { name: o.Untagged });
      if (out.some((o) => 'Deleted' in o)) b.events.emit('image', 'delete', imageId, { name: imageId });
      return out;
    } },
  ];
}
