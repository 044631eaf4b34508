// The zone lifecycle: create, boot, halt, reboot, destroy, list, inspect,
// exec, logs, update, stats. See docs/parts/lifecycle.md.
export { lifecycleOptionsFromEnv, type LifecycleOptions } from './options.js';
export { createZoneWith, type CreateResult } from './create.js';
export {
  createZone,
  bootZone,
  haltZone,
  rebootZone,
  destroyZone,
  listZones,
  inspectZone,
  updateZone,
  zoneStats,
  zoneLogs,
  execTarget,
  execZone,
  startExecZone,
  stopDaemon,
  type ApiOptions,
  type ResourceChanges,
} from './api.js';
export { ZoneManager } from './manager.js';
export { readLogs, logFiles, type ReadLogsOptions } from './logs.js';
export type { ZoneInfo, ZoneDetails, ZoneState, ZoneStatsResult, LastExit } from './types.js';
export type { ExecOptions } from './exec.js';
