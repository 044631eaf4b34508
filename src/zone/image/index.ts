// Rootfs images: plain rootfs tars, `docker save` and OCI image-layout
// archives, unpacked safely with the `tar` package. See docs/parts/zone-config-state.md.
export {
  unpackImage,
  detectImageFormat,
  DEFAULT_ID_SHIFT,
  type ImageFormat,
  type UnpackOptions,
  type UnpackResult,
} from './unpack.js';
export type { ImageConfig } from './manifests.js';
export { removeTree } from '../state/remove-tree.js';
export { prepareZoneRootfs, zoneProcess, type PreparedRootfs, type ZoneProcess } from './prepare.js';
