// The small files a daemon keeps of a zone beside its configuration and
// runtime record: the keeper's re-attach socket, the reboot marker a
// supervisor writes when the zone calls reboot(2), and the state the user
// last asked for (boot: running, halt: stopped).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { writeFileAtomic } from '../state/atomic.js';
import type { ZoneStore } from '../state/store.js';
import type { ManagerLog } from './managed-zone.js';

/** sun_path holds 108 bytes with its NUL. */
const MAX_SOCKET_PATH = 107;

export function socketPath(store: ZoneStore, name: string): string {
  return join(store.runtimeDir, 'zones', `${name}.sock`);
}

/** The re-attach socket's path, refused before anything is made if a Unix socket address cannot hold it. */
export function checkedSocketPath(store: ZoneStore, name: string): string {
  const path = socketPath(store, name);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new LxzoneError(
      `cannot boot zone ${name}: its re-attach socket ${path} is ${Buffer.byteLength(path)} bytes, longer than a Unix socket address allows (${MAX_SOCKET_PATH}); use a shorter runtime directory (LXZONE_RUNTIME_DIR) or zone name`,
      { code: 'ENAMETOOLONG' },
    );
  }
  return path;
}

/** Where a supervisor records a reboot(2) of the zone before the zone ends (reboot.cc). */
export function rebootMarker(store: ZoneStore, name: string): string {
  return join(store.runtimeDir, 'zones', `${name}.reboot`);
}

/** The reboot(2) recorded for the zone's last run, if any; the marker is removed. */
export function takeRebootMarker(store: ZoneStore, name: string): 'restart' | 'halt' | undefined {
  const file = rebootMarker(store, name);
  let text = '';
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  rmSync(file, { force: true });
  return text === 'restart' || text === 'halt' ? text : undefined;
}

function desiredFile(store: ZoneStore, name: string): string {
  return join(store.paths(name).zoneDir, 'desired-state');
}

/** What the user last asked for (boot: running, halt: stopped): decides unless-stopped at daemon start. */
export function setDesired(store: ZoneStore, name: string, state: 'running' | 'stopped', log: ManagerLog): void {
  try {
    writeFileAtomic(desiredFile(store, name), `${state}\n`);
  } catch (e) {
    log(`zone ${name}: cannot record desired state: ${(e as Error).message}`);
  }
}

/** undefined: never booted (docker's rule too: a container never started is not started by its policy). */
export function desired(store: ZoneStore, name: string): 'running' | 'stopped' | undefined {
  try {
    return readFileSync(desiredFile(store, name), 'utf8').trim() === 'running' ? 'running' : 'stopped';
  } catch {
    return undefined;
  }
}
