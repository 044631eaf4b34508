// The zone's own /proc view (LXCFS). See docs/parts/network-cgroups.md.
export {
  DEFAULT_PROCVIEW_MOUNT,
  PROC_FILES,
  procViewBinds,
  startProcView,
  stopProcView,
  type BindMount,
  type ProcView,
  type ProcViewOptions,
} from './lxcfs.js';
