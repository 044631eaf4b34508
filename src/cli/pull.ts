// `lxzone pull REF [--quiet|--json]`: fetch an image from a registry into the image store.
import type { Command } from 'commander';
import { ImageStore } from '../zone/image/store/images.js';
import { parseImageRef } from '../zone/image/store/reference.js';
import { pullImage } from '../zone/image/registry/pull.js';
import { PullProgress, progressMode } from './pull-progress.js';

export function register(program: Command): void {
  program
    .command('pull')
    .description('pull an image from a registry into the image store')
    .argument('<ref>', 'image reference: [HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST]')
    .option('-q, --quiet', 'print only the image digest')
    .option('--json', 'progress as JSON lines on stdout')
    .action(async (ref: string, f: { quiet?: boolean; json?: boolean }) => {
      const parsed = parseImageRef(ref);
      const store = new ImageStore();
      const progress = new PullProgress(progressMode(f));
      try {
        const rec = await pullImage(store, parsed, { onEvent: progress.event });
        progress.stop();
        if (!f.json) process.stdout.write(f.quiet ? `${rec.digest}\n` : `pulled ${ref}: ${rec.digest}\n`);
      } finally {
        progress.stop();
      }
    });
}
