// lxzone-runc exec: a new process in a created or running container, as runc
// does it: the zone's namespaces, cgroup, user and filter (lxzone's profile
// combined with the bundle's seccomp, as recorded at create). Attached, we
// serve it and return its status; --detach hands it to its own keeper (as
// create does the container's), whose pid --pid-file gets and whose exit
// status is the process's.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError, EXIT } from '../errors.js';
import { openZoneCgroup } from '../zone/cgroups/index.js';
import { execInZone, type RunningZone } from '../zone/run.js';
import type { ZoneEvent } from '../zone/events.js';
import { cgroupName, statusOf } from './container.js';
import { checkOciProcess, type OciProcess } from './spec.js';
import { translateProcess } from './translate.js';
import { sendConsole } from './console.js';
import type { StateRoot } from './state.js';

export interface ExecRequest {
  id: string;
  /** --process FILE, or built from the command line. */
  process: OciProcess;
  /** The command-line form: the container's own capabilities (runc's exec). */
  containerCaps?: boolean;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  log: (line: string) => void;
}

/**
 * A detached exec's re-attach socket, in the container's directory. Its name
 * is short: dockerd's default root (/run/docker/runtime-runc/moby) and its
 * 64-hex container ids leave 12 bytes of sun_path's 107.
 */
function execSocket(root: StateRoot, id: string): string {
  const p = join(root.dir(id), `x${randomBytes(4).toString('hex')}`);
  if (p.length >= 108) throw new LxzoneError(`--root ${root.root}: too long for a detached exec's socket under it (${p.length} bytes, at most 107)`, { exitCode: 2 });
  return p;
}

/** --process FILE: a runtime-spec process object. */
export function readProcessFile(file: string): OciProcess {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LxzoneError(`--process ${file}: ${(err as Error).message}`, { code: 'EINVAL' });
  }
  return checkOciProcess(doc, file);
}

/** Returns the process's exit status when attached, undefined when detached. */
export async function execContainer(root: StateRoot, r: ExecRequest): Promise<number | undefined> {
  const rec = root.load(r.id);
  const status = await statusOf(root, rec);
  if (status !== 'running' && status !== 'created') throw new LxzoneError(`cannot exec in container ${r.id}: it is ${status}`, { code: 'EINVAL' });
  if (r.preserveFds) throw new LxzoneError('exec --preserve-fds is not supported (create and run pass fds); use stdio', { code: 'ENOTSUP' });
  const proc = r.containerCaps ? { ...r.process, ...(rec.capabilities ? { capabilities: rec.capabilities } : {}) } : r.process;
  const p = translateProcess(proc, "exec's process");
  for (const n of p.notes) r.log(`note: ${n}`);
  if (r.consoleSocket && !p.tty) throw new LxzoneError('--console-socket is for a process with terminal: true (--tty)', { code: 'EINVAL' });
  if (p.tty && r.detach && !r.consoleSocket) throw new LxzoneError('a terminal with --detach needs --console-socket', { code: 'EINVAL' });
  const cg = rec.cgroupPath ? await openZoneCgroup(cgroupName(rec.id), { path: rec.cgroupPath }) : undefined;
  let started!: () => void;
  const isStarted = new Promise<void>((res) => (started = res));
  const console = r.consoleSocket ? sendConsole(r.consoleSocket, r.process.consoleSize) : undefined;
  let zone: RunningZone;
  try {
    zone = execInZone(rec.initPid, {
      ...p.zone,
      ...(rec.hostname ? { hostname: rec.hostname } : {}),
      ...(rec.kernelVersion ? { kernelVersion: rec.kernelVersion } : {}),
      ...(rec.seccomp ? { seccomp: rec.seccomp } : {}),
      idBase: rec.idBase,
      tty: p.tty,
      ...(console ? { stdio: 'fds' as const, stdioFds: [console.slave, console.slave, console.slave] as [number, number, number] } : { stdio: 'inherit' as const }),
      relayStdio: !p.tty,
      ...(cg ? { cgroupProcs: cg.procsFiles() } : {}),
      hiddenHostDirs: [root.root],
      detached: r.detach,
      // Its status must reach our caller's reaper (containerd's shim), not us: see the keeper.
      ...(r.detach ? { reattachSocket: execSocket(root, r.id), exitAfterParent: true } : {}),
      onEvent: (ev: ZoneEvent) => {
        if (ev.type === 'started') started();
      },
    });
  } finally {
    console?.close(); // the keeper has its copy
  }
  if (r.detach) {
    await Promise.race([
      isStarted,
      zone.wait().then((res) => {
        throw new LxzoneError(`exec in ${r.id}: the process ended before it ran (status ${res.exitCode})`, { exitCode: EXIT.failure });
      }),
    ]);
    if (r.pidFile) writeFileSync(r.pidFile, String(zone.keeperPid));
    zone.handOff();
    return undefined;
  }
  if (r.pidFile) writeFileSync(r.pidFile, String(zone.keeperPid));
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const) process.on(sig, () => zone.kill(sig));
  try {
    return (await zone.wait()).exitCode;
  } catch (err) {
    return (err as LxzoneError).exitCode ?? EXIT.zoneFailure;
  }
}
