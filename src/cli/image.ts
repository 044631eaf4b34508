// `lxzone image inspect|prune|import|save`.
import type { Command } from 'commander';
import { formatBytes } from '../zone/lifecycle/format.js';
import { importArchive, saveArchive } from '../zone/image/store/archive.js';
import { ImageStore } from '../zone/image/store/images.js';

export function register(program: Command): void {
  const image = program.command('image').description('manage the image store (inspect, prune, import, save)');
  image
    .command('inspect')
    .description('print what the store holds for an image, as JSON')
    .argument('<ref>', 'image reference or id')
    .action((ref: string) => {
      const store = new ImageStore();
      const rec = store.get(ref);
      const summary = store.list().find((i) => i.digest === rec.digest);
      const config = JSON.parse(store.blobs.read(rec.config).toString('utf8')) as unknown;
      process.stdout.write(`${JSON.stringify({ ...summary, rawConfig: config }, null, 2)}\n`);
    });
  image
    .command('prune')
    .description('remove images with no reference and no zone, and unused blobs and layers')
    .action(async () => {
      const store = new ImageStore();
      const r = await store.locked('prune', () => store.prune());
      for (const d of r.images) process.stdout.write(`deleted ${d}\n`);
      process.stdout.write(`removed ${r.blobs} blob${r.blobs === 1 ? '' : 's'}, ${formatBytes(r.bytes)}\n`);
      if (r.keptPartial > 0) process.stdout.write(`kept ${r.keptPartial} partial download${r.keptPartial === 1 ? '' : 's'}: a pull is running\n`);
    });
  image
    .command('import')
    .description('import a rootfs tar, a docker save archive, or an OCI image layout (an archive, or its directory)')
    .argument('<file>', 'the archive, or an OCI image layout directory')
    .argument('[ref]', 'reference to file it under (default: the archive\'s own tags)')
    .action(async (file: string, ref: string | undefined) => {
      const r = await importArchive(new ImageStore(), file, ref);
      for (const w of r.warnings) process.stderr.write(`lxzone: warning: ${w}\n`);
      process.stdout.write(`imported ${r.refs.join(', ') || '<no reference>'}: ${r.record.digest}\n`);
    });
  image
    .command('save')
    .description('write an image as an OCI image layout archive')
    .argument('<ref>', 'image reference or id')
    .requiredOption('-o, --output <file>', 'the archive to write (must not exist)')
    .action((ref: string, f: { output: string }) => {
      saveArchive(new ImageStore(), ref, f.output);
    });
}
