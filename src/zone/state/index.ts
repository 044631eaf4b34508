// Zone state: paths, atomic files, process identity, locks and the store.
// See docs/parts/zone-config-state.md.
export { ZoneStore, type RuntimeRecord, type RuntimeInput, type StoreOptions } from './store.js';
export { defaultPaths, ensurePrivateDir, zonePaths, type StorePaths, type ZonePaths } from './paths.js';
export { writeFileAtomic, readFileIfExists, sweepTempFiles } from './atomic.js';
export { acquireLock, readLockHolder, type LockHolder, type LockOptions, type ZoneLock } from './lock.js';
export { isAlive, processIdentity, readProcStat, bootId, type ProcessIdentity, type ProcStat } from './proc.js';
export { removeTree } from './remove-tree.js';
