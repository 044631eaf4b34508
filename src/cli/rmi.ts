// `lxzone rmi REF...`: untag an image; with its last reference gone and no
// zone created from it, remove it and whatever of its blobs and layers no
// other image shares. An image in use is refused (EBUSY) naming its zones.
import type { Command } from 'commander';
import { ImageStore } from '../zone/image/store/images.js';

export function register(program: Command): void {
  program
    .command('rmi')
    .description('remove images from the image store (refused while a zone uses one)')
    .argument('<ref...>', 'image references or ids')
    .action(async (refs: string[]) => {
      const store = new ImageStore();
      for (const ref of refs) {
        const r = await store.locked('rmi', () => store.remove(ref));
        for (const u of r.untagged) process.stdout.write(`untagged ${u}\n`);
        if (r.deleted) process.stdout.write(`deleted ${r.deleted}\n`);
      }
    });
}
