// lxzone-runc's state: one directory per container under --root (default
// /run/lxzone-runc, root's alone), holding state.json (written atomically),
// the start fifo while the container is created, and the keeper's re-attach
// socket. The container's status is derived, never stored: a keeper that is
// gone (pid + start time) means stopped, a start fifo that is still there
// means created, a frozen cgroup means paused.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../errors.js';
import type { Profile } from '../policy/types.js';
import type { OciCapabilities, OciHooks } from './spec.js';
import { writeFileAtomic } from '../zone/state/atomic.js';
import { isAlive, type ProcessIdentity } from '../zone/state/proc.js';
import { ensurePrivateDir } from '../zone/state/trusted-dir.js';

export const DEFAULT_ROOT = '/run/lxzone-runc';
/** runc's rule for container ids. */
const ID_PATTERN = /^[\w+.-]{1,128}$/;

export type OciStatus = 'creating' | 'created' | 'running' | 'stopped' | 'paused';

export interface ContainerRecord {
  id: string;
  bundle: string;
  /** The keeper (lxzone-shim): what --pid-file and state report, the process whose exit status is the container's. */
  keeper: ProcessIdentity;
  /** Host pid of the container's first process (the binary once started). */
  initPid: number;
  /** RFC 3339 creation time. */
  created: string;
  annotations: Record<string, string>;
  /** The zone's cgroup: its relative path (every hierarchy), when it has one. */
  cgroupPath?: string;
  /** Host ids the zone's 0 maps to. */
  idBase: number;
  /** The sandbox container whose user namespace and id range this one shares (src/oci/pod.ts). */
  pod?: string;
  /** The container's own process for hooks and exec: uid/gid in the zone. */
  rootfs: string;
  /** The zone's hostname (emulated uname answers it for exec'd processes too). */
  hostname?: string;
  /** The uname release it reports (--kernel-version or its annotation), for exec'd processes too. */
  kernelVersion?: string;
  /** linux.seccomp as imported at create: exec'd processes get the same filter. */
  seccomp?: Profile;
  /** process.capabilities at create: what exec's command-line form gives its process (as runc's exec). */
  capabilities?: OciCapabilities;
  /**
   * The poststart and poststop hooks as config.json had them at create (as runc keeps its config in its
   * state): start and delete run them without reading and schema-checking config.json again (ajv's
   * load and compile was most of a start's time). Absent in a record an older lxzone-runc wrote.
   */
  hooks?: Pick<OciHooks, 'poststart' | 'poststop'>;
}

export function checkId(id: string): void {
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw new LxzoneError(`invalid container id ${JSON.stringify(id)}: letters, digits, '_', '+', '-' and '.' only, at most 128`, { exitCode: 2, code: 'EINVAL' });
  }
}

export class StateRoot {
  constructor(readonly root: string = DEFAULT_ROOT) {}

  dir(id: string): string {
    checkId(id);
    return join(this.root, id);
  }
  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }
  socket(id: string): string {
    const p = join(this.dir(id), 'k.sock');
    if (p.length >= 108) throw new LxzoneError(`--root ${this.root}: too long for the keeper's socket under it (${p.length} bytes, at most 107)`, { exitCode: 2 });
    return p;
  }

  /** Makes the container's directory; refuses an id in use. */
  claim(id: string): string {
    ensurePrivateDir(this.root);
    const dir = this.dir(id);
    if (existsSync(dir)) throw new LxzoneError(`container ${id} already exists`, { code: 'EEXIST' });
    ensurePrivateDir(dir);
    return dir;
  }

  save(rec: ContainerRecord): void {
    writeFileAtomic(join(this.dir(rec.id), 'state.json'), JSON.stringify(rec, null, 2));
  }

  load(id: string): ContainerRecord {
    const file = join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LxzoneError(`container ${id} does not exist`, { code: 'ENOENT' });
      throw err;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  /** Ids with a directory under the root, also half-made ones (no state.json yet). */
  ids(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root).filter((n) => ID_PATTERN.test(n)).sort();
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}

export function keeperAlive(rec: ContainerRecord): boolean {
  return isAlive(rec.keeper);
}
