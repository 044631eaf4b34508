// `lxzone images [--json]` and `lxzone rmi REF...`: what the image store holds, and removing it.
import type { Command } from 'commander';
import { formatBytes, table } from '../zone/lifecycle/format.js';
import { ImageStore } from '../zone/image/store/images.js';

export function register(program: Command): void {
  program
    .command('images')
    .description('list the images in the image store')
    .option('--json', 'print the images as JSON')
    .action((f: { json?: boolean }) => {
      const images = new ImageStore().list();
      if (f.json) {
        process.stdout.write(`${JSON.stringify(images, null, 2)}\n`);
        return;
      }
      const rows = [['REFERENCE', 'IMAGE ID', 'DIGEST', 'LAYERS', 'SIZE', 'ZONES']];
      for (const i of images) {
        for (const r of i.refs.length > 0 ? i.refs : ['<none>']) {
          rows.push([r, i.config.slice(7, 19), i.digest.slice(0, 19), String(i.layers.length), formatBytes(i.size), i.users.join(',') || '-']);
        }
      }
      process.stdout.write(table(rows));
    });
}
