// docker exec: a process started in a running container's zone through the
// lifecycle's exec (it joins the zone's namespaces and cgroups, the daemon's
// supervisor serves it). Its I/O streams on the hijacked connection as it
// happens (exec-stream.ts): -i, -t (a pty, resized by the client), output as
// it comes. Exec instances live in the daemon's memory, as dockerd's.
import { randomBytes } from 'node:crypto';
import { startExec } from '../../zone/lifecycle/exec.js';
import type { DockerBackend } from './backend.js';
import { badRequest, conflict, notFound } from './errors.js';
import type { Route } from './router.js';
import { startExecIo, type ExecIo } from './exec-stream.js';
import { frame } from './streams.js';

interface ExecInstance {
  ID: string;
  container: string;
  zone: string;
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  user?: string;
  attachStdin: boolean;
  tty: boolean;
  /** The terminal's size as the client last asked (it may ask before the process starts). */
  size?: { cols: number; rows: number };
  io?: ExecIo;
  running: boolean;
  exitCode: number | null;
  pid: number;
}

/** Finished instances are forgotten after this long (dockerd keeps them until the container goes). */
const KEEP_MS = 10 * 60_000;

export function execRoutes(b: DockerBackend): Route[] {
  const execs = new Map<string, ExecInstance>();
  const get = (id: string) => {
    const e = execs.get(id) ?? [...execs.values()].find((x) => id.length >= 12 && x.ID.startsWith(id));
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  };

  const target = (e: ExecInstance) =>
    b.manager.execTarget(e.zone).catch(() => {
      throw conflict(`Container ${e.container} is not running`);
    });
  const processOf = (e: ExecInstance) => ({ argv: e.argv, env: e.env, ...(e.cwd ? { cwd: e.cwd } : {}), ...(e.user ? { user: e.user } : {}) });
  const finished = (e: ExecInstance) => {
    e.running = false;
    setTimeout(() => execs.delete(e.ID), KEEP_MS).unref();
  };

  /** -d: run with no one attached (its output goes nowhere, as with dockerd). */
  const runDetached = async (e: ExecInstance) => {
    const t = await target(e);
    e.running = true;
    try {
      const zone = startExec(b.opts.store, t, { ...processOf(e), stdio: 'pipe' });
      void zone.initPid.then((p) => (e.pid = p)).catch(() => undefined);
      const r = await zone.wait();
      e.exitCode = r.exitCode;
      return r;
    } catch (err) {
      e.exitCode = 126;
      throw badRequest(`exec failed: ${(err as Error).message}`);
    } finally {
      finished(e);
    }
  };

  return [
    {
      method: 'POST',
      path: '/containers/:id/exec',
      doc: 'exec create: -e, -u, -w, -i, -t',
      handler: async (ctx) => {
        const m = b.containers.get(ctx.params.id ?? '');
        const body = await ctx.body<{ Cmd?: string[]; Env?: string[] | null; WorkingDir?: string; User?: string; Tty?: boolean; AttachStdin?: boolean; Privileged?: boolean; ConsoleSize?: [number, number] | null }>();
        if (!Array.isArray(body.Cmd) || body.Cmd.length === 0) throw badRequest('No exec command specified');
        if (body.Privileged) throw badRequest('--privileged is not supported: every lxzone container is a zone');
        if (!b.manager.runningNames().includes(m.zone)) throw conflict(`Container ${m.Id} is not running`);
        const env: Record<string, string> = {};
        for (const kv of body.Env ?? []) {
          const i = kv.indexOf('=');
          if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
        }
        const e: ExecInstance = {
          ID: randomBytes(32).toString('hex'),
          container: m.Id,
          zone: m.zone,
          argv: body.Cmd.map(String),
          env,
          ...(body.WorkingDir ? { cwd: body.WorkingDir } : {}),
          ...(body.User ? { user: body.User } : {}),
          attachStdin: body.AttachStdin === true,
          tty: body.Tty === true,
          ...(Array.isArray(body.ConsoleSize) && body.ConsoleSize[0]! > 0 && body.ConsoleSize[1]! > 0 ? { size: { rows: body.ConsoleSize[0]!, cols: body.ConsoleSize[1]! } } : {}),
          running: false,
          exitCode: null,
          pid: 0,
        };
        execs.set(e.ID, e);
        return { status: 201, body: { Id: e.ID } };
      },
    },
    {
      method: 'POST',
      path: '/exec/:id/start',
      doc: 'exec start: its output on the hijacked connection as it comes (multiplexed, or raw with -t), stdin with -i; -d runs it detached',
      handler: async (ctx) => {
        const e = get(ctx.params.id ?? '');
        if (e.running || e.exitCode !== null) throw conflict(`Exec ${e.ID} has already run`);
        // An upgraded request's body is not parsed by Node: its bytes come first on the connection, before stdin.
        const bodyBytes = ctx.upgrade ? Number(ctx.req.headers['content-length'] ?? 0) || 0 : 0;
        const body = ctx.upgrade ? {} : await ctx.body<{ Detach?: boolean; Tty?: boolean }>();
        if (body.Detach) {
          void runDetached(e).catch(() => undefined);
          return { status: 200, body: {} };
        }
        // Checked before the connection is taken over, so the client sees a plain error.
        const t = await target(e);
        const stream = ctx.hijack(e.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
        e.running = true;
        try {
          e.io = startExecIo(b.opts.store, t, { ...processOf(e), tty: e.tty }, stream, ctx.upgrade?.head ?? Buffer.alloc(0), bodyBytes, e.size, e.attachStdin);
          void e.io.zone.initPid.then((p) => (e.pid = p)).catch(() => undefined);
          e.exitCode = await e.io.done;
        } catch (err) {
          e.exitCode = 126;
          const msg = Buffer.from(`${(err as Error).message}\n`);
          stream.write(e.tty ? msg : frame('stderr', msg));
        } finally {
          finished(e);
        }
        stream.end();
        return undefined;
      },
    },
    {
      method: 'POST',
      path: '/exec/:id/resize',
      doc: 'exec resize: the terminal of docker exec -t (h, w)',
      handler: (ctx) => {
        const e = get(ctx.params.id ?? '');
        const rows = ctx.int('h') ?? 0;
        const cols = ctx.int('w') ?? 0;
        if (rows <= 0 || cols <= 0 || rows > 1000 || cols > 1000) throw badRequest(`invalid size: h=${rows} w=${cols}`);
        if (!e.tty) throw conflict(`Exec ${e.ID} has no terminal (docker exec without -t)`);
        e.size = { cols, rows };
        e.io?.resize(cols, rows);
        return { status: 200, body: undefined };
      },
    },
    {
      method: 'GET',
      path: '/exec/:id/json',
      doc: 'exec inspect: Running, ExitCode, Pid',
      handler: (ctx) => {
        const e = get(ctx.params.id ?? '');
        return {
          ID: e.ID,
          ContainerID: e.container,
          Running: e.running,
          ExitCode: e.exitCode,
          Pid: e.pid,
          OpenStdin: e.attachStdin,
          OpenStdout: true,
          OpenStderr: true,
          CanRemove: false,
          DetachKeys: '',
          ProcessConfig: { tty: e.tty, entrypoint: e.argv[0], arguments: e.argv.slice(1), privileged: false, user: e.user ?? '' },
        };
      },
    },
  ];
}
