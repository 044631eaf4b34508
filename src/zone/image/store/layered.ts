// Looking at an image's merged tree through its layer directories (lowest
// first), as overlayfs will show it, without mounting anything: for a user
// name's passwd entry and whether the image has an init (system zones).
import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { readRootFile, type ZoneFileReader } from '../../config/user.js';
import { isOpaque } from './volumes.js';

/**
 * An entry of the merged image (not followed if a symlink), looked up top
 * layer first: a whiteout (or a symlink on the way, which only the merged
 * tree could resolve) ends the search with nothing.
 */
export function layeredEntry(layers: string[], rel: string): { layer: string; st: Stats } | undefined {
  const parts = rel.split('/').filter(Boolean);
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as string;
    let cur = layer;
    let missing = false;
    for (let k = 0; k < parts.length; k++) {
      cur = join(cur, parts[k] as string);
      const st = lstatSync(cur, { throwIfNoEntry: false });
      if (!st) {
        missing = true;
        break;
      }
      if (st.isCharacterDevice() && st.rdev === 0) return undefined; // whited out
      if (k === parts.length - 1) return { layer, st };
      if (st.isSymbolicLink()) return undefined;
      // An opaque directory hides the lower layers' content: the entry is not there if not in this layer.
      if (st.isDirectory() && isOpaque(cur) && !lstatSync(join(layer, ...parts), { throwIfNoEntry: false })) return undefined;
    }
    if (!missing) return undefined;
  }
  return undefined;
}

/** A file of the merged image (a regular file only: a symlink is not followed). */
export function layeredReader(layers: string[]): ZoneFileReader {
  return (rel) => {
    const e = layeredEntry(layers, rel);
    return e?.st.isFile() ? readRootFile(e.layer, rel) : undefined;
  };
}
