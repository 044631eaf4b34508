// The zone state store: configurations (persistent) and runtime records
// (gone at reboot), each file replaced atomically, each zone guarded by its
// lock. Everything on disk is validated when read back: a hand-edited or
// corrupted file gives an error that names the file, never a crash later.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { lazySchema } from '../../lazy-schema.js';
import { LxzoneError } from '../../errors.js';
import { parseZoneConfig, formatSchemaErrors } from '../config/validate.js';
import { NAME_PATTERN } from '../config/schema.js';
import type { ZoneConfig } from '../config/types.js';
import { readFileIfExists, sweepTempFiles, writeFileAtomic } from './atomic.js';
import { removeTree } from './remove-tree.js';
import { acquireLock, type LockOptions, type ZoneLock } from './lock.js';
import { defaultPaths, ensurePrivateDir, zonePaths, type StorePaths, type ZonePaths } from './paths.js';
import { isAlive, processIdentity } from './proc.js';

/** What the runtime directory says about a booted zone. Fields beyond the
 * required ones are the lifecycle's business and are kept as they are. */
export interface RuntimeRecord {
  version: 1;
  name: string;
  /** The zone's init (or keeper) process, with its start time and boot id. */
  pid: number;
  startTime: number;
  bootId: string;
  /** ISO time the zone booted. */
  startedAt: string;
  [extra: string]: unknown;
}

/** What writeRuntime takes: identity fields not given are read from /proc for `pid`. */
export interface RuntimeInput {
  name: string;
  pid: number;
  startTime?: number;
  bootId?: string;
  startedAt?: string;
  [extra: string]: unknown;
}

const runtimeSchema = {
  type: 'object',
  required: ['version', 'name', 'pid', 'startTime', 'bootId', 'startedAt'],
  properties: {
    version: { const: 1 },
    name: { type: 'string', pattern: NAME_PATTERN },
    pid: { type: 'integer', minimum: 1, maximum: 4194304 },
    startTime: { type: 'integer', minimum: 0 },
    bootId: { type: 'string', minLength: 1, maxLength: 64 },
    startedAt: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;
const validateRuntime = lazySchema(runtimeSchema, { allErrors: true, verbose: true });

export interface StoreOptions extends Partial<StorePaths> {
  /** Environment to take LXZONE_STATE_DIR etc. from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export class ZoneStore {
  readonly stateDir: string;
  readonly runtimeDir: string;

  constructor(opts: StoreOptions = {}) {
    const d = defaultPaths(opts.env ?? process.env);
    this.stateDir = opts.stateDir ?? d.stateDir;
    this.runtimeDir = opts.runtimeDir ?? d.runtimeDir;
  }

  /** Paths of one zone (the name is validated first). */
  paths(name: string): ZonePaths {
    return zonePaths(this, name);
  }

  private ensureDirs(): void {
    ensurePrivateDir(this.stateDir);
    ensurePrivateDir(this.runtimeDir);
    mkdirSync(join(this.stateDir, 'zones'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.runtimeDir, 'zones'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.runtimeDir, 'locks'), { recursive: true, mode: 0o700 });
  }

  /** Names of the zones that have a configuration, sorted. */
  list(): string[] {
    let names: string[];
    try {
      names = readdirSync(join(this.stateDir, 'zones'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const re = new RegExp(NAME_PATTERN);
    return names.filter((n) => re.test(n) && !n.includes('..') && existsSync(join(this.stateDir, 'zones', n, 'config.json'))).sort();
  }

  exists(name: string): boolean {
    return existsSync(this.paths(name).configFile);
  }

  /**
   * Write a zone's configuration (validated first). With `create`, fail if
   * the zone already exists. Take the zone's lock around create/update
   * sequences that read before they write.
   */
  saveConfig(cfg: ZoneConfig, opts: { create?: boolean } = {}): ZoneConfig {
    const valid = parseZoneConfig(cfg, cfg.name ?? 'config');
    const p = this.paths(valid.name);
    this.ensureDirs();
    const madeDir = !existsSync(p.zoneDir);
    mkdirSync(p.zoneDir, { recursive: true, mode: 0o700 });
    const exists = () => new LxzoneError(`zone ${valid.name} already exists`, { code: 'EEXIST', where: p.configFile });
    if (opts.create && existsSync(p.configFile)) throw exists();
    sweepTempFiles(p.zoneDir);
    try {
      writeFileAtomic(p.configFile, `${JSON.stringify(valid, null, 2)}\n`, 0o600, opts.create === true);
    } catch (e) {
      // A directory made for a config that could not be written (a full
      // disk) would look like a zone: it goes too.
      // (Not on EEXIST: then another creator won, and the directory is its.)
      if (opts.create && (e as LxzoneError).code === 'EEXIST') throw exists();
      if (madeDir) rmSync(p.zoneDir, { recursive: true, force: true });
      throw e;
    }
    return valid;
  }

  /** Read and validate a zone's configuration; errors name the file. */
  loadConfig(name: string): ZoneConfig {
    const p = this.paths(name);
    const text = readFileIfExists(p.configFile);
    if (text === undefined) {
      throw new LxzoneError(`zone ${name} does not exist`, { code: 'ENOENT', where: p.configFile });
    }
    const cfg = parseZoneConfig(text, p.configFile);
    if (cfg.name !== name) {
      throw new LxzoneError(
        `zone config "${p.configFile}": field "name": is "${cfg.name}" but the file belongs to zone "${name}"`,
        { code: 'EINVAL', where: p.configFile },
      );
    }
    return cfg;
  }

  /**
   * Remove everything the store holds for a zone. The zone directory is
   * first renamed aside, so the zone disappears at once even if removing a
   * large rootfs takes time or fails half-way.
   */
  remove(name: string): void {
    const p = this.paths(name);
    this.removeRuntime(name);
    if (!existsSync(p.zoneDir)) return;
    const aside = join(this.stateDir, 'zones', `.removing-${name}-${randomBytes(4).toString('hex')}`);
    renameSync(p.zoneDir, aside);
    removeTree(aside);
  }

  /** Record a booted zone (pid/startTime/bootId default to this process's identity
   * only if absent: pass the zone's own). */
  writeRuntime(rec: RuntimeInput): RuntimeRecord {
    const id = rec.startTime === undefined || rec.bootId === undefined ? processIdentity(rec.pid) : undefined;
    const full = {
      ...rec,
      version: 1,
      startTime: rec.startTime ?? (id as { startTime: number }).startTime,
      bootId: rec.bootId ?? (id as { bootId: string }).bootId,
      startedAt: rec.startedAt ?? new Date().toISOString(),
    } as RuntimeRecord;
    const p = this.paths(rec.name);
    if (!validateRuntime(full)) {
      throw new LxzoneError(`runtime record of zone ${rec.name}: ${formatSchemaErrors(validateRuntime.errors ?? []).join('; ')}`, {
        code: 'EINVAL',
      });
    }
    this.ensureDirs();
    writeFileAtomic(p.runtimeFile, `${JSON.stringify(full)}\n`);
    return full;
  }

  /** The runtime record, or undefined if the zone is not booted. Errors name the file. */
  readRuntime(name: string): RuntimeRecord | undefined {
    const p = this.paths(name);
    const text = readFileIfExists(p.runtimeFile);
    if (text === undefined) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new LxzoneError(`runtime record "${p.runtimeFile}": not valid JSON: ${(e as Error).message}`, {
        code: 'EINVAL',
        where: p.runtimeFile,
      });
    }
    if (!validateRuntime(v)) {
      throw new LxzoneError(
        `runtime record "${p.runtimeFile}": ${formatSchemaErrors(validateRuntime.errors ?? []).join('; ')}`,
        { code: 'EINVAL', where: p.runtimeFile },
      );
    }
    return v as RuntimeRecord;
  }

  removeRuntime(name: string): void {
    rmSync(this.paths(name).runtimeFile, { force: true });
  }

  /**
   * The runtime record if its process is still the one that booted the zone;
   * a record whose process is gone (or whose pid was reused) is removed and
   * undefined returned. Call with the zone's lock held.
   */
  liveRuntime(name: string): RuntimeRecord | undefined {
    const rec = this.readRuntime(name);
    if (rec === undefined) return undefined;
    if (isAlive(rec)) return rec;
    this.removeRuntime(name);
    return undefined;
  }

  /** Take the zone's lock (see lock.ts). */
  async lock(name: string, opts?: LockOptions): Promise<ZoneLock> {
    const p = this.paths(name);
    this.ensureDirs();
    return acquireLock(p.lockFile, name, opts);
  }

  /** Run `fn` with the zone's lock held; the lock is released however fn ends. */
  async withLock<T>(name: string, fn: () => T | Promise<T>, opts?: LockOptions): Promise<T> {
    const l = await this.lock(name, opts);
    try {
      return await fn();
    } finally {
      l.release();
    }
  }
}
