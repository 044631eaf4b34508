// lxzone daemon: holds the supervisor and the zones, answers the CLI on a
// Unix socket. One per state/runtime directory pair (a lock in the runtime
// directory; a SIGKILLed daemon's lock is broken by the next one). The
// socket is created 0600 inside the 0700 runtime directory: other users
// cannot reach it. On start it takes back the zones whose keepers still run
// and cleans up after those that died (ZoneManager.recover).
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { LxzoneError } from '../errors.js';
import { detectCgroups } from '../zone/cgroups/detect.js';
import { leaveDaemonLeaf, placeDaemonInLeaf, type DaemonLeaf } from '../zone/cgroups/daemon-leaf.js';
import { LogRotator } from '../zone/lifecycle/logs.js';
import { ZoneManager } from '../zone/lifecycle/manager.js';
import { lifecycleOptionsFromEnv, type LifecycleOptions } from '../zone/lifecycle/options.js';
import { acquireLock, readLockHolder, type ZoneLock } from '../zone/state/lock.js';
import { ensurePrivateDir } from '../zone/state/paths.js';
import { startDockerApi, type DockerApi } from './docker/server.js';
import type { DockerTlsOptions } from './docker/tls.js';
import type { PortalAddress, RunningPortal } from './portal/server.js';
import { daemonPaths, errorBody, LineReader, METHODS, PROTOCOL_VERSION, type Method, type Request, type Response } from './protocol.js';

export interface DaemonOptions {
  lifecycle?: Partial<LifecycleOptions>;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Serve the web portal there (off by default). */
  portal?: PortalAddress;
  /** Serve the Docker API on TCP too, with mutual TLS (src/daemon/docker/tls.ts). */
  dockerTls?: DockerTlsOptions;
}

export interface RunningDaemon {
  socket: string;
  manager: ZoneManager;
  /** The portal's address and login token (the token only here: it is stored hashed). */
  portal?: { url: string; token: string };
  /** Resolves when the daemon has stopped. */
  closed: Promise<void>;
  stop(o?: { haltZones?: boolean }): Promise<void>;
}

function str(params: Record<string, unknown> | undefined, key: string): string {
  const v = params?.[key];
  if (typeof v !== 'string') throw new LxzoneError(`request parameter "${key}" must be a string`, { code: 'EINVAL', exitCode: 2 });
  return v;
}

function optNumber(params: Record<string, unknown> | undefined, key: string): number | undefined {
  const v = params?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new LxzoneError(`request parameter "${key}" must be a number >= 0`, { code: 'EINVAL', exitCode: 2 });
  return v;
}

/** Requests after which the portal's open pages get the zone list again (what else changes, the store's files show). */
const CHANGES: ReadonlySet<Method> = new Set(['boot', 'halt', 'reboot', 'destroy', 'update', 'refresh']);

export async function startDaemon(o: DaemonOptions = {}): Promise<RunningDaemon> {
  const env = o.env ?? process.env;
  const opts = lifecycleOptionsFromEnv(env, o.lifecycle);
  const log = o.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`));
  const store = opts.store;
  ensurePrivateDir(store.stateDir);
  ensurePrivateDir(store.runtimeDir);
  mkdirSync(`${store.runtimeDir}/zones`, { recursive: true, mode: 0o700 });
  const paths = daemonPaths(store);

  let lock: ZoneLock;
  try {
    lock = await acquireLock(paths.lock, 'daemon', { timeoutMs: 0, purpose: 'daemon' });
  } catch (e) {
    if ((e as LxzoneError).code !== 'EBUSY') throw e;
    const pid = readLockHolder(paths.lock)?.holder?.pid;
    throw new LxzoneError(`another lxzone daemon already serves ${store.runtimeDir}${pid ? ` (pid ${pid})` : ''}`, { code: 'EBUSY', where: paths.lock });
  }

  // On cgroup v2, into a leaf of lxzone's own subtree (cgroups/daemon-leaf.ts): after the lock, so only
  // the daemon that serves moves. A refusal (a rootless daemon) leaves it where it was: zones' cgroups
  // are made where they always are, the daemon's own place only decides where its keepers are counted.
  let leaf: DaemonLeaf | undefined;
  try {
    leaf = placeDaemonInLeaf(detectCgroups(), opts.cgroupParent);
    if (leaf) log(`daemon ${process.pid}: in cgroup ${leaf.rel}`);
  } catch (e) {
    log(`daemon ${process.pid}: stays in its own cgroup: ${(e as Error).message}`);
  }

  // Its own log (our stderr when started on demand) gets the zones' cap too.
  const logRotator = new LogRotator([paths.log], opts.logMaxBytes);
  const manager = new ZoneManager(opts, log);
  const found = await manager.recover();
  log(`daemon ${process.pid}: state ${store.stateDir}, runtime ${store.runtimeDir}; re-attached [${found.reattached.join(' ')}], found stopped [${found.stopped.join(' ')}], booted [${found.booted.join(' ')}]`);

  let stopping: Promise<void> | undefined;
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => (closedResolve = r));
  const connections = new Set<Socket>();

  const call = async (method: Method, p: Record<string, unknown> | undefined): Promise<unknown> => {
    switch (method) {
      case 'ping':
        return { pid: process.pid, version: PROTOCOL_VERSION, running: manager.runningNames() };
      case 'boot':
        return manager.boot(str(p, 'name'));
      case 'halt':
        return manager.halt(str(p, 'name'), { timeoutMs: optNumber(p, 'timeoutMs') });
      case 'reboot':
        return manager.reboot(str(p, 'name'), { timeoutMs: optNumber(p, 'timeoutMs') });
      case 'destroy':
        return manager.destroy(str(p, 'name'), { force: p?.force === true });
      case 'update':
        return manager.update(str(p, 'name'), (p?.resources ?? {}) as Parameters<ZoneManager['update']>[1]);
      case 'refresh':
        return manager.refresh(str(p, 'name'));
      case 'stats':
        return manager.stats(str(p, 'name'));
      case 'list':
        return manager.list();
      case 'inspect':
        return manager.inspect(str(p, 'name'));
      case 'execTarget':
        return manager.execTarget(str(p, 'name'));
      case 'adoptExec':
        return manager.adoptExec(str(p, 'name'), str(p, 'socket'));
      case 'shutdown':
        setImmediate(() => void stop({ haltZones: p?.haltZones === true }));
        return { stopping: true };
    }
  };

  const serve = (conn: Socket): void => {
    connections.add(conn);
    conn.setEncoding('utf8');
    const send = (r: Response) => {
      if (!conn.destroyed) conn.write(`${JSON.stringify(r)}\n`);
    };
    const reader = new LineReader((line) => {
      let req: Request;
      try {
        req = JSON.parse(line) as Request;
      } catch {
        send({ id: -1, error: { message: 'request is not valid JSON', exitCode: 2 } });
        return;
      }
      const id = typeof req.id === 'number' ? req.id : -1;
      if (!(METHODS as readonly string[]).includes(req.method)) {
        send({ id, error: { message: `unknown method ${JSON.stringify(req.method)}`, exitCode: 2 } });
        return;
      }
      Promise.resolve()
        .then(() => call(req.method, req.params))
        .then(
          (result) => {
            if (CHANGES.has(req.method)) portal?.changed();
            send({ id, result: result ?? null });
          },
          (e: unknown) => send({ id, error: errorBody(e) }),
        );
    });
    conn.on('data', (d: string) => {
      try {
        reader.push(d);
      } catch (e) {
        send({ id: -1, error: errorBody(e) });
        conn.destroy();
      }
    });
    conn.on('error', () => undefined);
    conn.on('close', () => connections.delete(conn));
  };

  const server: Server = createServer(serve);
  rmSync(paths.socket, { force: true }); // a killed daemon's socket: we hold the lock, it is ours to replace
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(paths.socket, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(paths.socket, 0o600);
  // The Docker Engine API (src/daemon/docker): a failure to serve it is logged, lxzone's own API goes on;
  // but when it was asked for on TCP (--docker-tls) the daemon does not start without it (as the portal).
  const docker: DockerApi | undefined = await startDockerApi(manager, opts, env, log, o.dockerTls).catch(async (e: Error) => {
    if (!o.dockerTls) {
      log(`docker api: not served: ${e.message}`);
      return undefined;
    }
    server.close();
    rmSync(paths.socket, { force: true });
    await manager.close({});
    logRotator.stop();
    lock.release();
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EADDRNOTAVAIL' ? 'no such address on this host' : e.message;
    throw new LxzoneError(`daemon not started: the Docker API on --docker-tls ${o.dockerTls.host}:${o.dockerTls.port} cannot be served: ${why}`, { code, exitCode: 1 });
  });

  // After the socket: the portal acts through the same API as the CLI, i.e. through that socket.
  let portal: RunningPortal | undefined;
  if (o.portal) {
    try {
      // Loaded only when asked for: a daemon started on demand has no portal.
      const { startPortal } = await import('./portal/server.js');
      portal = await startPortal(o.portal, store, log);
    } catch (e) {
      server.close();
      await docker?.close();
      rmSync(paths.socket, { force: true });
      await manager.close({});
      logRotator.stop();
      lock.release();
      throw e;
    }
    log(`daemon ${process.pid}: portal at ${portal.url}`);
  }

  const stop = (so: { haltZones?: boolean } = {}): Promise<void> => {
    stopping ??= (async () => {
      log(`daemon ${process.pid}: stopping${so.haltZones ? ' (halting every zone)' : ' (zones keep running for the next daemon)'}`);
      server.close();
      await docker?.close();
      await portal?.close();
      await manager.close(so);
      for (const c of connections) c.end();
      rmSync(paths.socket, { force: true });
      // Under the lock still: no other daemon moves into the leaf while it may go.
      if (leaf) log(`daemon ${process.pid}: ${leaveDaemonLeaf(detectCgroups(), leaf)}`);
      logRotator.stop();
      lock.release();
      closedResolve();
    })();
    return stopping;
  };

  return { socket: paths.socket, manager, closed, stop, ...(portal ? { portal: { url: portal.url, token: portal.token } } : {}) };
}

/** `lxzone daemon`: run until SIGTERM/SIGINT (zones stay up for the next daemon) or a shutdown request. */
export async function runDaemon(o: DaemonOptions = {}): Promise<void> {
  // A bug in one request must not take the daemon (and the supervisor of every zone) down.
  const stamp = () => new Date().toISOString();
  process.on('unhandledRejection', (e) => process.stderr.write(`${stamp()} unhandled rejection: ${(e as Error)?.stack ?? String(e)}\n`));
  // A peer that went away (a keeper refusing its config and closing its fds) is not a reason to stop
  // serving every zone; anything else is a bug: exit, the zones wait for the next daemon.
  process.on('uncaughtException', (e: NodeJS.ErrnoException) => {
    process.stderr.write(`${stamp()} uncaught exception: ${e?.stack ?? String(e)}\n`);
    if (e?.code !== 'EPIPE' && e?.code !== 'ECONNRESET') process.exit(70);
  });
  let d: RunningDaemon;
  try {
    d = await startDaemon(o);
  } catch (e) {
    // `daemon --portal` while a daemon (one the CLI started on demand, or a service) already serves this
    // state: the portal alone, in this process, acting through that daemon's socket like the CLI does.
    const lock = daemonPaths(lifecycleOptionsFromEnv(o.env ?? process.env, o.lifecycle).store).lock;
    if (!o.portal || (e as LxzoneError).code !== 'EBUSY' || (e as LxzoneError).where !== lock) throw e;
    return runPortalBeside(o.portal, o, (e as LxzoneError).message);
  }
  const onSignal = () => void d.stop();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => undefined);
  // The token is shown once, here, and never written anywhere in clear.
  if (d.portal) process.stdout.write(`lxzone portal: ${d.portal.url}\nlogin token (shown once): ${d.portal.token}\n`);
  if (process.send) process.send({ ready: d.socket });
  await d.closed;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  // The supervisor's native thread would keep the process up; our zones are detached and wait for the next daemon.
  process.exit(0);
}

/** The portal for a daemon that runs in another process; until SIGTERM/SIGINT. */
async function runPortalBeside(addr: PortalAddress, o: DaemonOptions, why: string): Promise<void> {
  const { store } = lifecycleOptionsFromEnv(o.env ?? process.env, o.lifecycle);
  const log = o.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`));
  const { startPortal } = await import('./portal/server.js');
  const portal = await startPortal(addr, store, log, { standalone: true });
  log(`portal ${process.pid}: ${why}; serving the portal for it at ${portal.url} (this process serves the portal only; stop it with Ctrl-C or SIGTERM)`);
  process.stdout.write(`lxzone portal: ${portal.url}\nlogin token (shown once): ${portal.token}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await portal.close();
  process.exit(0);
}
