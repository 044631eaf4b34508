// The Docker Engine API's socket: HTTP over a Unix socket, by default
// <runtime dir>/docker.sock (/run/lxzone/docker.sock as root), mode 0600 and
// owned by the daemon's user: whoever can use it can run anything as that
// user in a zone, so it is as private as lxzone's own socket. LXZONE_DOCKER_GROUP
// gives one group read/write on it (0660) — the group is then as powerful as
// root; LXZONE_DOCKER_SOCKET puts it elsewhere (the runtime directory itself
// is 0700, so a group socket must live outside it); LXZONE_DOCKER=0 turns the
// API off. Plain TCP is never offered: `daemon --docker-tls` serves it on TCP
// with mutual TLS only (tls.ts).
import { DnsService } from '../dns/service.js';
import { chmodSync, chownSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { serverTlsOptions, type DockerTlsOptions } from './tls.js';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { LxzoneError } from '../../errors.js';
import type { ZoneManager } from '../../zone/lifecycle/manager.js';
import type { LifecycleOptions } from '../../zone/lifecycle/options.js';
import { DockerBackend } from './backend.js';
import { dockerName } from './container-store.js';
import { DockerRouter, type Route } from './router.js';
import { systemRoutes } from './system.js';
import { imageRoutes } from './images.js';
import { containerRoutes } from './containers.js';
import { execRoutes } from './exec.js';
import { attachRoutes } from './attach.js';
import { archiveRoutes } from './archive.js';
import { pauseRoutes } from './pause.js';
import { statsRoutes } from './stats.js';
import { eventRoutes } from './events.js';
import { networkRoutes } from './networks.js';
import { volumeRoutes } from './volumes.js';

export interface DockerApi {
  socket: string;
  close(): Promise<void>;
}

export function dockerSocketPath(opts: LifecycleOptions, env: NodeJS.ProcessEnv): string {
  return env.LXZONE_DOCKER_SOCKET || join(opts.store.runtimeDir, 'docker.sock');
}

function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  try {
    return Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  } catch {
    throw new LxzoneError(`LXZONE_DOCKER_GROUP: no group ${JSON.stringify(group)}`, { code: 'EINVAL', exitCode: 2 });
  }
}

/** Every route of the API, in one table (also read by the docs generator). */
export function allRoutes(b: DockerBackend): Route[] {
  return [...systemRoutes(b), ...containerRoutes(b), ...attachRoutes(b), ...archiveRoutes(b), ...execRoutes(b), ...pauseRoutes(b), ...statsRoutes(b), ...eventRoutes(b), ...imageRoutes(b), ...networkRoutes(b), ...volumeRoutes(b)];
}

export async function startDockerApi(manager: ZoneManager, opts: LifecycleOptions, env: NodeJS.ProcessEnv, log: (line: string) => void, tls?: DockerTlsOptions): Promise<DockerApi | undefined> {
  if (env.LXZONE_DOCKER === '0') return undefined;
  const socket = dockerSocketPath(opts, env);
  const backend = new DockerBackend(manager, opts, log);
  // The user networks' DNS servers (src/daemon/dns): names of the zones on each, served at its gateway.
  const dns = process.getuid?.() === 0 ? new DnsService(manager, opts, log, env) : undefined;
  if (dns) {
    backend.dns = dns;
    // A container answers to its Docker name (rename changes it) and its short id, as in dockerd's DNS.
    dns.namesOf = (zone) => {
      const m = backend.containers.byZone(zone);
      return m ? [dockerName(m), m.Id.slice(0, 12)] : undefined;
    };
  }
  const router = new DockerRouter(allRoutes(backend), log);
  const connections = new Set<Socket>();
  const serve = (server: Server): Server => {
    server.on('request', (req, res) => void router.handle(req, res));
    server.on('upgrade', (req, sock: Socket, head: Buffer) => void router.handleUpgrade(req, sock, head));
    server.on('connection', (c: Socket) => {
      connections.add(c);
      c.on('close', () => connections.delete(c));
    });
    // Long streams (logs -f, events, stats): no idle timeouts.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    server.keepAliveTimeout = 5_000;
    return server;
  };
  const server = serve(createServer());
  rmSync(socket, { force: true }); // a killed daemon's socket; we hold the daemon lock
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  const group = env.LXZONE_DOCKER_GROUP;
  if (group) {
    chownSync(socket, process.getuid?.() ?? 0, groupId(group));
    chmodSync(socket, 0o660);
    if (dirname(socket) === opts.store.runtimeDir) log(`docker api: LXZONE_DOCKER_GROUP is set but ${socket} is inside the private runtime directory; set LXZONE_DOCKER_SOCKET to a path the group can reach`);
  } else {
    chmodSync(socket, 0o600);
  }
  log(`docker api: serving ${socket}`);
  let tcp: Server | undefined;
  if (tls) {
    tcp = serve(createTlsServer(serverTlsOptions(tls)));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp!.once('error', reject);
        tcp!.listen(tls.port, tls.host, () => resolve());
      });
    } catch (e) {
      server.close();
      dns?.close();
      backend.close();
      rmSync(socket, { force: true });
      throw new LxzoneError((e as Error).message, { code: (e as NodeJS.ErrnoException).code });
    }
    log(`docker api: serving tcp ${tls.host}:${tls.port} (mutual TLS: client certificates signed by the given CA only)`);
  }
  // After the socket: the networks' bridges may have to be made again first (a host reboot), which must not keep clients waiting.
  await dns?.refresh();
  return {
    socket,
    close: async () => {
      dns?.close();
      server.close();
      tcp?.close();
      backend.close();
      for (const c of connections) c.destroy();
      rmSync(socket, { force: true });
    },
  };
}
