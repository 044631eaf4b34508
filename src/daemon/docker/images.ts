// The image endpoints over lxzone's image store (image-model.ts): list,
// inspect, pull (image-pull.ts), remove, and a clear "not supported" for
// what the store does not do through Docker yet (build, push, tag, save,
// load, import, history).
import type { DockerBackend } from './backend.js';
import type { Ctx } from './context.js';
import { notImplemented } from './errors.js';
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
    { method: 'POST', path: '/images/create', handler: (ctx) => pullHandler(b, ctx), doc: "pull: into lxzone's image store (any registry lxzone pull reaches; X-Registry-Auth credentials), Docker's JSON progress; no import (fromSrc)" },
    { method: 'POST', path: '/build', handler: unsupported('docker build'), doc: 'build: not supported (501)' },
    { method: 'GET', path: '/images/*', doc: 'image inspect: Id (the config digest), RepoTags, RepoDigests, Config (Env, Cmd, Entrypoint, WorkingDir, User, Labels), RootFS', handler: (ctx) => {
      const name = imageName(ctx, /\/json$/);
      if (/\/(history|get)$/.test(name)) throw notImplemented('docker history and save are not supported by lxzone\'s Docker API yet (lxzone image save)');
      return b.images.inspect(b.images.get(name));
    } },
    { method: 'POST', path: '/images/*', doc: 'tag, push: not supported (501)', handler: unsupported('docker tag/push') },
    { method: 'DELETE', path: '/images/*', doc: 'rmi: untags; deletes the image when nothing names it and no container uses it (409 otherwise, -f untags anyway)', handler: async (ctx) => {
      const out = await b.images.remove(imageName(ctx, /$/), ctx.flag('force'));
      for (const o of out) {
        if ('Untagged' in o) b.events.emit('image', 'untag', o.Untagged, { name: o.Untagged });
        else b.events.emit('image', 'delete', o.Deleted, { name: o.Deleted });
      }
      return out;
    } },
  ];
}
