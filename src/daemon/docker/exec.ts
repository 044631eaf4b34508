// docker exec: a process started in a running container's zone through the
// lifecycle's exec (it joins the zone's namespaces and cgroups, the daemon's
// supervisor serves it). Without a tty only: its output is collected and sent
// multiplexed when it ends (stdin, with -i, is what the client sent before
// closing its side). Exec instances live in the daemon's memory, as dockerd's.
import { randomBytes } from 'node:crypto';
import { startExec } from '../../zone/lifecycle/exec.js';
import type { DockerBackend } from './backend.js';
import { badRequest, conflict, notFound } from './errors.js';
import type { Route } from './router.js';
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

  const run = async (e: ExecInstance, input: Buffer | undefined) => {
    const target = await b.manager.execTarget(e.zone).catch(() => {
      throw conflict(`Container ${e.container} is not running`);
    });
    e.running = true;
    try {
      const zone = startExec(b.opts.store, target, { argv: e.argv, stdio: 'pipe', env: e.env, ...(e.cwd ? { cwd: e.cwd } : {}), ...(e.user ? { user: e.user } : {}), ...(input ? { input } : {}) });
      void zone.initPid.then((p) => (e.pid = p)).catch(() => undefined);
      const r = await zone.wait();
      e.exitCode = r.exitCode;
      return r;
    } catch (err) {
      e.exitCode = 126;
      throw badRequest(`exec failed: ${(err as Error).message}`);
    } finally {
      e.running = false;
      setTimeout(() => execs.delete(e.ID), KEEP_MS).unref();
    }
  };

  return [
    {
      method: 'POST',
      path: '/containers/:id/exec',
      doc: 'exec create: -e, -u, -w, -i (stdin up to its end); no -t yet',
      handler: async (ctx) => {
        const m = b.containers.get(ctx.params.id ?? '');
        const body = await ctx.body<{ Cmd?: string[]; Env?: string[] | null; WorkingDir?: string; User?: string; Tty?: boolean; AttachStdin?: boolean; Privileged?: boolean }>();
        if (!Array.isArray(body.Cmd) || body.Cmd.length === 0) throw badRequest('No exec command specified');
        if (body.Tty) throw badRequest('lxzone does not give docker exec a terminal yet (-t); run it without -t');
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
      doc: 'exec start: output multiplexed on the hijacked connection once the process ends; -d runs it detached',
      handler: async (ctx) => {
        const e = get(ctx.params.id ?? '');
        if (e.running || e.exitCode !== null) throw conflict(`Exec ${e.ID} has already run`);
        // An upgraded request's body is not parsed by Node: its bytes come first on the connection, before stdin.
        const bodyBytes = ctx.upgrade ? Number(ctx.req.headers['content-length'] ?? 0) || 0 : 0;
        const body = ctx.upgrade ? {} : await ctx.body<{ Detach?: boolean; Tty?: boolean }>();
        if (body.Tty) throw badRequest('lxzone does not give docker exec a terminal yet (-t)');
        if (body.Detach) {
          void run(e, undefined).catch(() => undefined);
          return { status: 200, body: {} };
        }
        // Checked before the connection is taken over, so the client sees a plain error.
        if (!b.manager.runningNames().includes(e.zone)) throw conflict(`Container ${e.container} is not running`);
        const stream = ctx.hijack('application/vnd.docker.multiplexed-stream');
        let input: Buffer | undefined;
        if (e.attachStdin && stream.input) {
          const chunks: Buffer[] = [];
          if (ctx.upgrade?.head.length) chunks.push(ctx.upgrade.head);
          await new Promise<void>((resolve) => {
            stream.input!.on('data', (c: Buffer) => chunks.push(c));
            stream.input!.once('end', () => resolve());
            stream.input!.once('close', () => resolve());
          });
          input = Buffer.concat(chunks).subarray(bodyBytes);
        }
        try {
          const r = await run(e, input);
          if (r.stdout?.length) stream.write(frame('stdout', r.stdout));
          if (r.stderr?.length) stream.write(frame('stderr', r.stderr));
        } catch (err) {
          stream.write(frame('stderr', Buffer.from(`${(err as Error).message}\n`)));
        }
        stream.end();
        return undefined;
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
          ProcessConfig: { tty: false, entrypoint: e.argv[0], arguments: e.argv.slice(1), privileged: false, user: e.user ?? '' },
        };
      },
    },
  ];
}
