// The OCI lifecycle of one container (runtime.md): create builds the zone
// and leaves its binary waiting on the start fifo, with its keeper serving
// its notified calls (no lxzone process stays behind); start opens the
// fifo; kill signals; delete removes what create made.
import { createHash } from 'node:crypto';
import { chownSync, closeSync, constants as fsConstants, existsSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, unlinkSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../errors.js';
import { native } from '../native.js';
import { createZoneCgroup, openZoneCgroup, type ZoneCgroup } from '../zone/cgroups/index.js';
import { ZONE_ID_COUNT } from '../zone/shim-plan.js';
import { claimTransientIdRange, releaseTransientIdRange, shareTransientIdRange, transientSlotAt, type IdClaim } from '../zone/ids.js';
import { isRootless, startZone, type RunningZone, type RunResult } from '../zone/run.js';
import { processIdentity, readProcStat } from '../zone/state/proc.js';
import { ociCgroupPath } from './cgroups-path.js';
import { sendConsole, type ConsolePty } from './console.js';
import { runHooks, runHooksWarning } from './hooks.js';
import { podOf, resolvePod } from './pod.js';
import { readBundleConfig, type OciHooks } from './spec.js';
import { translateSpec } from './translate.js';
import { checkId, keeperAlive, type ContainerRecord, type OciStatus, type StateRoot } from './state.js';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  /** The uname release the container reports (--kernel-version); the annotation org.lxzone.kernel-version wins. */
  kernelVersion?: string;
  /** run: stay attached (the keeper dies with us), serve the zone from this process. */
  attached?: boolean;
  log: (line: string) => void;
}

export interface Created {
  record: ContainerRecord;
  zone: RunningZone;
}

export function cgroupName(id: string): string {
  return `oci-${createHash('sha256').update(id).digest('hex').slice(0, 24)}`;
}

function mkfifo(path: string): void {
  // Node has no mkfifo(3): the addon's (spawning coreutils' mkfifo cost each create a process start).
  native().makeFifo(path, 0o600);
}

export function ociState(rec: ContainerRecord, status: OciStatus): Record<string, unknown> {
  return {
    ociVersion: '1.1.0',
    id: rec.id,
    status,
    pid: status === 'stopped' ? 0 : rec.keeper.pid,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    annotations: rec.annotations,
    owner: '',
  };
}

export async function statusOf(root: StateRoot, rec: ContainerRecord): Promise<OciStatus> {
  if (!keeperAlive(rec)) return 'stopped';
  if (existsSync(root.fifo(rec.id))) return 'created';
  const cg = rec.cgroupPath ? await openZoneCgroup(cgroupName(rec.id), { path: rec.cgroupPath }).catch(() => undefined) : undefined;
  if (cg && frozen(cg)) return 'paused';
  return 'running';
}

function frozen(cg: ZoneCgroup): boolean {
  try {
    if (cg.version === 2) return readFileSync(`${cg.dirs.unified}/cgroup.freeze`, 'utf8').trim() === '1';
    const dir = cg.dirs.freezer;
    return dir !== undefined && readFileSync(`${dir}/freezer.state`, 'utf8').trim() === 'FROZEN';
  } catch {
    return false; // no freezer: never paused
  }
}

export async function createContainer(root: StateRoot, o: CreateOptions): Promise<Created> {
  checkId(o.id);
  const bundle = resolve(o.bundle);
  const spec = readBundleConfig(bundle);
  for (const n of [...dropZoneSysctls(spec), ...dropEmptyResources(spec)]) o.log(`note: ${n}`);
  const plan = translateSpec(spec, bundle);
  for (const n of plan.notes) o.log(`note: ${n}`);
  if (o.consoleSocket && !plan.tty) throw new LxzoneError('--console-socket is for a container with process.terminal: true', { code: 'EINVAL' });
  if (plan.tty && !o.attached && !o.consoleSocket) throw new LxzoneError('process.terminal needs --console-socket to create a detached container', { code: 'EINVAL' });
  const preserved = preservedFds(o.preserveFds ?? 0);
  const kernelVersion = checkKernelVersion(spec.annotations?.[KERNEL_VERSION_ANNOTATION] ?? o.kernelVersion);
  if (isRootless()) throw new LxzoneError('lxzone-runc needs root (rootless containers are not supported yet)', { code: 'EPERM' });
  // linux.namespaces[].path: the pod whose sandbox's namespaces these are, if any.
  const pod = plan.joins ? resolvePod(root, o.id, plan.joins) : undefined;
  const sandbox = pod?.sandbox;
  if (sandbox) o.log(`note: linux.namespaces: joins pod ${podOf(sandbox)} (its user namespace and host id range too)`);

  root.claim(o.id);
  let idClaim: IdClaim | undefined;
  let cg: ZoneCgroup | undefined;
  let zone: RunningZone | undefined;
  let console: ConsolePty | undefined;
  try {
    // A pod's containers share the sandbox's user namespace, so its range.
    // linux.uidMappings naming a range (id-mappings.ts): the pod's own, or a free one of lxzone's claimed.
    if (sandbox && plan.idBase !== undefined && plan.idBase !== sandbox.idBase) {
      throw new LxzoneError(`config.json linux.uidMappings: host id ${plan.idBase} is not the range of the pod this container joins (container ${sandbox.id}'s, from ${sandbox.idBase})`, { code: 'EINVAL' });
    }
    idClaim = sandbox ? shareTransientIdRange(sandbox.idBase) : claimIdRange(plan.idBase);
    const idBase = idClaim.idBase;
    const fifo = root.fifo(o.id);
    mkfifo(fifo);
    // The zone's process reopens it as its own user (start_gate.cc).
    chownSync(fifo, idBase + (plan.zone.uid ?? 0), idBase + (plan.zone.gid ?? 0));
    // linux.cgroupsPath: where the caller (containerd, the kubelet's pod cgroup) wants it; else lxzone's own parent.
    const cgPath = plan.cgroupsPath ? ociCgroupPath(plan.cgroupsPath) : undefined;
    cg = await createZoneCgroup(cgroupName(o.id), plan.zone.limits ?? {}, cgPath ? { path: cgPath } : {});
    const oom = plan.oomScoreAdj;
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    // The terminal's master goes to the console socket; the keeper relays the zone's pty to its slave.
    console = o.consoleSocket ? sendConsole(o.consoleSocket, spec.process?.consoleSize) : undefined;
    zone = startZone({
      ...plan.zone,
      tty: plan.tty,
      idBase,
      startFifo: fifo,
      detached: !o.attached,
      reattachSocket: root.socket(o.id),
      ...(console ? { stdio: 'fds' as const, stdioFds: [console.slave, console.slave, console.slave] as [number, number, number] } : { stdio: 'inherit' as const }),
      relayStdio: !plan.tty,
      ...(preserved.length ? { preserveFds: preserved } : {}),
      ...(kernelVersion ? { kernelVersion } : {}),
      // The pid we report (and hooks get) is the keeper's: its /proc/PID/ns/net must be the zone's.
      keeperInZoneNetns: true,
      ...(pod && Object.keys(pod.namespaces).length ? { joinNamespaces: pod.namespaces } : {}),
      ...(sandbox ? { joinUsernsPid: sandbox.initPid } : {}),
      hiddenHostDirs: [root.root],
      cgroupProcs: cg.procsFiles(),
      memoryLimit: plan.zone.limits?.memory ?? undefined,
      onCreated: oom === undefined ? undefined : (pid) => setOomScoreAdj(pid, oom, o.log),
      // The binary waits on the fifo once its listener is with the keeper.
      onEvent: (ev) => {
        if (ev.type === 'ready') ready();
      },
    });
    console?.close();
    console = undefined;
    const running = zone;
    // The detached keeper's process handle does not hold the event loop: a
    // keeper that fails early (its exit not yet seen) left nothing else
    // pending, and Node ended here (exit 13) without the cleanup below.
    const holdLoop = setInterval(() => undefined, 1000);
    const initPid = await Promise.race([
      isReady.then(() => running.initPid),
      running.wait().then((r: RunResult) => {
        throw new LxzoneError(`container ${o.id} exited during create (status ${r.exitCode})`, { exitCode: 1 });
      }),
    ]).finally(() => clearInterval(holdLoop));
    const record: ContainerRecord = {
      id: o.id,
      bundle,
      keeper: processIdentity(running.keeperPid),
      initPid,
      created: new Date().toISOString(),
      annotations: spec.annotations ?? {},
      cgroupPath: cg.path,
      idBase,
      ...(sandbox ? { pod: podOf(sandbox) } : {}),
      rootfs: plan.rootfs,
      // What exec needs to build the same process context later, whatever config.json says then.
      ...(plan.zone.hostname ? { hostname: plan.zone.hostname } : {}),
      ...(kernelVersion ? { kernelVersion } : {}),
      ...(plan.zone.seccomp ? { seccomp: plan.zone.seccomp } : {}),
      ...(spec.process?.capabilities ? { capabilities: spec.process.capabilities } : {}),
      hooks: { ...(spec.hooks?.poststart ? { poststart: spec.hooks.poststart } : {}), ...(spec.hooks?.poststop ? { poststop: spec.hooks.poststop } : {}) },
    };
    idClaim.handOver(record.keeper);
    root.save(record);
    if (o.pidFile) writeFileSync(o.pidFile, String(record.keeper.pid));
    const state = ociState(record, 'created');
    await runHooks('prestart', spec.hooks?.prestart, state);
    await runHooks('createRuntime', spec.hooks?.createRuntime, state);
    return { record, zone: running };
  } catch (err) {
    console?.close();
    if (zone) {
      zone.kill('SIGKILL');
      await waitGone(zone.keeperPid);
    }
    await cg?.destroy().catch(() => undefined);
    idClaim?.release();
    root.remove(o.id);
    throw err;
  }
}

/**
 * dockerd puts two sysctls in every container's spec that has a network
 * namespace of its own (its own defaults); every zone's network namespace
 * has them already (native/shim/zone_process.cc): any port may be bound, and
 * every group of the zone may open ping sockets. Those are taken out, noted;
 * any other sysctl stays for the translation to decide.
 */
function dropZoneSysctls(spec: { linux?: { sysctl?: Record<string, string> } }): string[] {
  const s = spec.linux?.sysctl;
  if (!s) return [];
  const notes: string[] = [];
  if (s['net.ipv4.ip_unprivileged_port_start'] === '0') {
    delete s['net.ipv4.ip_unprivileged_port_start'];
    notes.push('linux.sysctl net.ipv4.ip_unprivileged_port_start=0: every zone has it');
  }
  const ping = /^\s*(\d+)\s+(\d+)\s*$/.exec(s['net.ipv4.ping_group_range'] ?? '');
  if (ping && Number(ping[1]) === 0 && Number(ping[2]) >= ZONE_ID_COUNT - 1) {
    delete s['net.ipv4.ping_group_range'];
    notes.push(`linux.sysctl net.ipv4.ping_group_range: every group of the zone may open ping sockets already (the zone's own range, not ${ping[1]}-${ping[2]})`);
  }
  return notes;
}

/**
 * dockerd writes resource classes with nothing in them (blockIO {weight: 0}
 * when no --blkio-weight was given): no cap asked for, none to refuse. A
 * class holding any non-zero value stays for the translation to decide.
 */
function dropEmptyResources(spec: { linux?: { resources?: object } }): string[] {
  const r = spec.linux?.resources as Record<string, unknown> | undefined;
  if (!r) return [];
  const empty = (v: unknown): boolean =>
    v === undefined || v === null || v === 0 || v === '' || (Array.isArray(v) && v.every(empty)) || (typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every(empty));
  const notes: string[] = [];
  for (const k of ['blockIO', 'hugepageLimits', 'network', 'rdma', 'unified']) {
    if (k in r && empty(r[k])) {
      delete r[k];
      notes.push(`linux.resources.${k}: empty, nothing to cap`);
    }
  }
  return notes;
}

/** The OCI annotation that sets the uname release a container reports (as CRI passes pod annotations). */
export const KERNEL_VERSION_ANNOTATION = 'org.lxzone.kernel-version';

/** A uname release: what struct utsname holds (64 bytes and a NUL), printable, no spaces. */
export function checkKernelVersion(v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^[\x21-\x7e]{1,64}$/.test(v)) throw new LxzoneError(`kernel version ${JSON.stringify(v)}: 1 to 64 printable characters without spaces`, { exitCode: 2, code: 'EINVAL' });
  return v;
}

/**
 * --preserve-fds N: our fds 3..3+N-1 (the caller's, as go-runc's ExtraFiles
 * pass them) become the container process's 3..3+N-1, as with runc. Node
 * makes every inherited fd close-on-exec at startup, so the flags cannot
 * tell the caller's fds from Node's own, which fill the lowest free numbers
 * after them (its epoll first, eventfds, pipes it holds both ends of). Those
 * are refused, never handed into the zone: an N larger than what the caller
 * passed is a clear error instead of a leak of this process's event loop.
 */
function preservedFds(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 1024) throw new LxzoneError(`--preserve-fds ${String(n)}: a number of fds from 0 to 1024`, { exitCode: 2, code: 'EINVAL' });
  const fds = Array.from({ length: n }, (_, i) => 3 + i);
  const targets = new Map<string, number>();
  for (const fd of readdirSync('/proc/self/fd').map(Number)) {
    try {
      const t = readlinkSync(`/proc/self/fd/${fd}`);
      targets.set(t, (targets.get(t) ?? 0) + 1);
    } catch {
      /* the directory's own fd, closed by now */
    }
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      throw new LxzoneError(`--preserve-fds ${n}: fd ${fd} is not open`, { code: 'EBADF' });
    }
    const own = /^anon_inode:\[(eventpoll|eventfd|signalfd|timerfd|io_uring|inotify)\]$/.test(target) || (target.startsWith('pipe:') && (targets.get(target) ?? 0) > 1);
    if (own) throw new LxzoneError(`--preserve-fds ${n}: fd ${fd} was not passed to lxzone-runc (${target} is the runtime's own)`, { code: 'EBADF' });
  }
  return fds;
}

async function waitGone(pid: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const st = readProcStat(pid);
    if (!st || st.state === 'Z') return;
    await sleep(10);
  }
}

export async function startContainer(root: StateRoot, id: string): Promise<ContainerRecord> {
  const rec = root.load(id);
  const status = await statusOf(root, rec);
  if (status !== 'created') throw new LxzoneError(`container ${id} is ${status}, not created`, { code: 'EINVAL' });
  const fifo = root.fifo(id);
  const fd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    const end = Date.now() + 10_000;
    for (;;) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, 1, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      if (n === 1) break;
      if (!keeperAlive(rec)) throw new LxzoneError(`container ${id} stopped before it started`, { code: 'ESRCH' });
      if (Date.now() > end) throw new LxzoneError(`container ${id} did not take the start (its process is not waiting)`, { code: 'ETIMEDOUT' });
      await sleep(2);
    }
  } finally {
    closeSync(fd);
  }
  unlinkSync(fifo);
  const hooks = rec.hooks ?? readBundleConfig(rec.bundle).hooks;
  // A failing poststart hook is logged; the others run and the container keeps running.
  await runHooksWarning('poststart', hooks?.poststart, ociState(rec, 'running'), (msg) => process.stderr.write(`lxzone-runc: warning: ${msg}\n`));
  return rec;
}

export function parseSignal(s: string): number {
  const n = Number(s);
  if (Number.isInteger(n) && n > 0 && n < 65) return n;
  const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  const v = (osConstants.signals as Record<string, number>)[name];
  if (v === undefined) throw new LxzoneError(`unknown signal ${JSON.stringify(s)}`, { exitCode: 2, code: 'EINVAL' });
  return v;
}

/** Host pids of the container's processes: its cgroup's. */
async function containerPids(rec: ContainerRecord): Promise<number[]> {
  const cg = rec.cgroupPath ? await openZoneCgroup(cgroupName(rec.id), { path: rec.cgroupPath }) : undefined;
  return cg ? cg.pids() : [rec.initPid];
}

export async function killContainer(root: StateRoot, id: string, signal: number, all: boolean): Promise<void> {
  const rec = root.load(id);
  const status = await statusOf(root, rec);
  // runc's words: containerd's shim takes "container not running" for a process already finished, not a failure.
  if (status === 'stopped') throw new LxzoneError(`container ${id}: container not running`, { code: 'ESRCH' });
  const pids = all ? await containerPids(rec) : [rec.initPid];
  for (const pid of pids) {
    // The init pid is the keeper's child while the container lives: never signal a reused pid.
    if (!all && readProcStat(pid)?.ppid !== rec.keeper.pid) throw new LxzoneError(`container ${id}: container not running (its process is gone)`, { code: 'ESRCH' });
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

export async function deleteContainer(root: StateRoot, id: string, force: boolean): Promise<void> {
  let rec: ContainerRecord;
  try {
    rec = root.load(id);
  } catch (err) {
    // A directory without state.json: a create that died half-way. Nothing runs for it.
    if (existsSync(root.dir(id)) && (err as LxzoneError).code === 'ENOENT') return root.remove(id);
    // runc: delete --force of a container that does not exist succeeds (a caller cleaning up after a failed create).
    if (force && (err as LxzoneError).code === 'ENOENT') return;
    throw err;
  }
  const status = await statusOf(root, rec);
  if ((status === 'running' || status === 'paused') && !force) {
    throw new LxzoneError(`cannot delete container ${id}: it is ${status} (stop it, or --force)`, { code: 'EBUSY' });
  }
  if (status !== 'stopped') {
    try {
      process.kill(rec.keeper.pid, 'SIGKILL'); // its zone dies with it (parent-death signal)
    } catch {
      /* already gone */
    }
    await waitGone(rec.keeper.pid);
  }
  const cg = rec.cgroupPath ? await openZoneCgroup(cgroupName(id), { path: rec.cgroupPath }).catch(() => undefined) : undefined;
  await cg?.destroy();
  releaseTransientIdRange(rec.idBase);
  // Poststop failures are logged; the other hooks run and the delete goes on.
  const warnings: string[] = [];
  let hooks: OciHooks | undefined;
  try {
    hooks = rec.hooks ?? readBundleConfig(rec.bundle).hooks;
  } catch (err) {
    warnings.push((err as Error).message);
  }
  await runHooksWarning('poststop', hooks?.poststop, ociState(rec, 'stopped'), (msg) => warnings.push(msg));
  root.remove(id);
  for (const w of warnings) process.stderr.write(`lxzone-runc: warning: ${w}\n`);
}

export type { RunResult };

/**
 * process.oomScoreAdj. Lowering it below what this runtime has needs
 * CAP_SYS_RESOURCE (containerd's CRI plugin asks -998 for every pod
 * sandbox); a runtime without it (a container host that drops it) keeps its
 * own value for the zone and notes it: a higher score only makes the zone the
 * likelier one for the OOM killer, never a stronger one.
 */
function setOomScoreAdj(pid: number, wanted: number, log: (msg: string) => void): void {
  const file = `/proc/${pid}/oom_score_adj`;
  try {
    writeFileSync(file, String(wanted));
  } catch (err) {
    const own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
    if ((err as NodeJS.ErrnoException).code !== 'EACCES' || !(wanted < own)) throw err;
    writeFileSync(file, String(own));
    log(`note: process.oomScoreAdj ${wanted}: below this runtime's own ${own} without CAP_SYS_RESOURCE; the zone keeps ${own}`);
  }
}

/** The zone's host id range: the one linux.uidMappings named (id-mappings.ts checked it is lxzone's), else any free one. */
function claimIdRange(idBase: number | undefined): IdClaim {
  if (idBase === undefined) return claimTransientIdRange();
  try {
    return claimTransientIdRange(undefined, transientSlotAt(idBase));
  } catch (err) {
    if ((err as LxzoneError).code !== 'EBUSY') throw err;
    throw new LxzoneError(`config.json linux.uidMappings: host ids ${idBase}.. are held by another zone (a running container's or lxzone's)`, { code: 'EBUSY' });
  }
}
