// docker cp (GET/PUT/HEAD /containers/:id/archive). The daemon is root and
// a zone's filesystem is its attacker's: a path resolved by the daemon could
// be turned by a planted symlink (/tmp/x -> /etc/shadow, ../../..) into a
// host file. So the daemon never resolves a zone path at all: the work is a
// process exec'd into the zone as the zone's root (its namespaces, user
// namespace, cgroup and syscall filter, exactly as `docker exec -u 0`), and
// the kernel confines every lookup to the zone. The zone's own sh, stat and
// tar do it; the daemon only streams bytes between them and the client (it
// parses no tar). Hence: the container must be running, and its image must
// have a shell, stat and tar (busybox or coreutils); a stopped container's
// files cannot be copied (409, said plainly).
import { closeSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { posix } from 'node:path';
import { startExec } from '../../zone/lifecycle/exec.js';
import type { DockerBackend } from './backend.js';
import { dockerName, type ContainerMeta } from './container-store.js';
import { badRequest, conflict, DockerError, notFound } from './errors.js';
import { pipe } from './exec-stream.js';
import type { Route } from './router.js';

/** Docker's PathStat, as the X-Docker-Container-Path-Stat header carries it (base64 JSON). */
interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

// Go's os.FileMode type bits, which the client reads (IsDir, symlinks).
const GO_DIR = 0x80000000;
const GO_SYMLINK = 0x08000000;

// Runs in the zone: lstat of "$1" (hex mode, size, mtime) and, for a link, where it leads (in the zone).
const STAT_SCRIPT = 'p="$1"; s=$(stat -c "%f %s %Y" -- "$p") || exit 44; t=""; if [ -L "$p" ]; then t=$(readlink -- "$p"); fi; printf "%s\\n%s\\n" "$s" "$t"';
// "$1" is a directory the archive goes into; a missing one, or one that is not a directory, is an error.
const EXTRACT_SCRIPT = '[ -d "$1" ] || { echo "not a directory: $1" >&2; exit 45; }; exec tar -x -f - -C "$1"';

const bad = (path: string) => {
  if (!path) throw badRequest('path cannot be empty');
  if (!path.startsWith('/')) throw badRequest(`path must be absolute (in the container): ${path}`);
  if (path.includes('\0')) throw badRequest('path contains a NUL byte');
  return path;
};

export function archiveRoutes(b: DockerBackend): Route[] {
  const target = async (m: ContainerMeta) => {
    if (!b.manager.runningNames().includes(m.zone)) {
      throw conflict(`lxzone copies files only with a running container (${dockerName(m)} is stopped): the copy is done inside the zone, so that the container's files cannot lead it to the host's`);
    }
    return b.manager.execTarget(m.zone).catch(() => {
      throw conflict(`Container ${m.Id} is not running`);
    });
  };
  const asRoot = { user: '0:0', env: {} };

  const stat = async (m: ContainerMeta, path: string): Promise<PathStat> => {
    const t = await target(m);
    const zone = startExec(b.opts.store, t, { ...asRoot, argv: ['/bin/sh', '-c', STAT_SCRIPT, 'sh', path], stdio: 'pipe', cwd: '/' });
    const r = await zone.wait();
    const out = r.stdout?.toString('utf8') ?? '';
    if (r.exitCode === 44) throw notFound(`Could not find the file ${path} in container ${dockerName(m)}`);
    if (r.exitCode !== 0) throw new DockerError(500, `stat ${path} in container ${dockerName(m)} failed (exit ${r.exitCode}; the image needs sh and stat): ${(r.stderr?.toString('utf8') ?? '').trim()}`);
    const [line = '', link = ''] = out.split('\n');
    const [hex = '0', size = '0', mtime = '0'] = line.trim().split(' ');
    const raw = parseInt(hex, 16);
    const type = raw & 0o170000;
    // Added, not OR'd: JavaScript's | would make bit 31 a sign.
    const mode = (raw & 0o7777) + (type === 0o040000 ? GO_DIR : type === 0o120000 ? GO_SYMLINK : 0);
        // Where a link leads, as a path in the zone (lexically, as ../ cannot climb above the zone's /): the client asks for it next with -L.
    const linkTarget = link ? posix.resolve(posix.dirname(path), link) : '';
    return { name: posix.basename(path) || '/', size: Number(size), mode, mtime: new Date(Number(mtime) * 1000).toISOString(), linkTarget };
  };
  const statHeader = (s: PathStat) => ({ 'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(s)).toString('base64') });

  return [
    {
      method: 'HEAD',
      path: '/containers/:id/archive',
      doc: 'cp (stat): a path in a running container, looked up inside the zone as its root (a symlink leads within the zone only)',
      handler: async (ctx) => {
        const m = b.containers.get(ctx.params.id ?? '');
        const s = await stat(m, bad(ctx.query.get('path') ?? ''));
        return { status: 200, headers: statHeader(s) };
      },
    },
    {
      method: 'GET',
      path: '/containers/:id/archive',
      doc: 'cp out: a tar of the path made by the zone\'s own tar, as the zone\'s root inside the zone (running containers only; the image needs sh, stat and tar)',
      handler: async (ctx) => {
        const m = b.containers.get(ctx.params.id ?? '');
        const path = bad(ctx.query.get('path') ?? '');
        const s = await stat(m, path);
        const t = await target(m);
        // Trailing "/." means the directory's content (the client asks so); the tar names entries from the base.
        const norm = posix.normalize(path);
        const dir = posix.dirname(norm);
        const base = posix.basename(norm) || '.';
        const [ours, theirs] = pipe(b.opts.store, 'out');
        const devnull = openSync('/dev/null', 'r');
        let zone;
        try {
          zone = startExec(b.opts.store, t, { ...asRoot, argv: ['tar', '-c', '-f', '-', '-C', dir, base], stdio: 'fds', stdioFds: [devnull, theirs, devnull], cwd: '/' });
        } catch (e) {
          closeSync(ours);
          throw e;
        } finally {
          closeSync(theirs);
          closeSync(devnull);
        }
        const res = ctx.res!;
        res.writeHead(200, { 'Content-Type': 'application/x-tar', ...statHeader(s) });
        const out = new Socket({ fd: ours, readable: true, writable: false });
        out.on('error', () => undefined);
        res.once('close', () => {
          out.destroy();
          zone.kill('SIGKILL'); // the client went: no one reads the rest
        });
        out.pipe(res);
        const r = await zone.wait().catch(() => ({ exitCode: 126 }));
        // tar failed (a file the zone's root cannot read): the answer is cut, not ended as if whole.
        if (r.exitCode !== 0) {
          b.log(`docker api: cp from ${dockerName(m)}:${path}: tar exited ${r.exitCode}`);
          out.once('close', () => res.destroy());
        }
        return undefined;
      },
    },
    {
      method: 'PUT',
      path: '/containers/:id/archive',
      doc: 'cp in: the client\'s tar extracted by the zone\'s own tar into an existing directory, as the zone\'s root inside the zone (running containers only); noOverwriteDirNonDir and copyUIDGID are not honoured (tar\'s defaults as root)',
      handler: async (ctx) => {
        const m = b.containers.get(ctx.params.id ?? '');
        const path = bad(ctx.query.get('path') ?? '');
        const s = await stat(m, path);
        if (s.mode < GO_DIR) throw badRequest(`extraction point is not a directory: ${path}`);
        const t = await target(m);
        const [ours, theirs] = pipe(b.opts.store, 'in');
        const [errOurs, errTheirs] = pipe(b.opts.store, 'out');
        const devnull = openSync('/dev/null', 'w');
        let zone;
        try {
          zone = startExec(b.opts.store, t, { ...asRoot, argv: ['/bin/sh', '-c', EXTRACT_SCRIPT, 'sh', path], stdio: 'fds', stdioFds: [theirs, devnull, errTheirs], cwd: '/' });
        } catch (e) {
          closeSync(ours);
          closeSync(errOurs);
          throw e;
        } finally {
          closeSync(theirs);
          closeSync(errTheirs);
          closeSync(devnull);
        }
        const input = new Socket({ fd: ours, readable: false, writable: true });
        input.on('error', () => undefined); // tar stopped reading (it failed): its exit says why
        const errs = new Socket({ fd: errOurs, readable: true, writable: false });
        let stderr = '';
        errs.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4096)));
        errs.on('error', () => undefined);
        // A pipe has no half-close: its end is closing our side once what was written is in it.
        ctx.req.pipe(input, { end: false });
        ctx.req.once('end', () => input.write(Buffer.alloc(0), () => input.destroy()));
        const r = await zone.wait();
        errs.destroy();
        input.destroy();
        if (r.exitCode !== 0) throw new DockerError(r.exitCode === 45 ? 400 : 500, `extracting into ${path} in container ${dockerName(m)} failed: ${stderr.trim() || `tar exited ${r.exitCode}`}`);
        return { status: 200, body: undefined };
      },
    },
  ];
}
