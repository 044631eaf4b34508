// Zone configuration: schema, validation, host path checks, user lookup and
// the docker-like flag helpers. See docs/parts/zone-config-state.md.
export type {
  ZoneConfig,
  RootfsConfig,
  ImageFormatName,
  BindMount,
  TmpfsMount,
  ResourcesConfig,
  NetworkConfig,
  RestartPolicy,
} from './types.js';
export { LIMITS, zoneConfigSchema, NAME_PATTERN } from './schema.js';
export {
  parseZoneConfig,
  defaultZoneConfig,
  parseRestartPolicy,
  assertZoneName,
  normalizeZonePath,
  hostnameForName,
  formatSchemaErrors,
} from './validate.js';
export { checkHostPaths, checkHostPath } from './host-paths.js';
export { parseUserSpec, resolveUser, type UserSpec, type ResolvedUser } from './user.js';
export { resolveInRoot } from './in-root.js';
export {
  parseEnvFlag,
  parseEnvFlags,
  parseVolumeFlag,
  parseUserFlag,
  parseTmpfsFlag,
  parseRestartFlag,
  parseSize,
  applyZoneFlags,
  DEFAULT_TMPFS_BYTES,
  type ZoneFlags,
} from './flags.js';
