// `lxzone create NAME [options] [-- COMMAND...]`: validate and store a zone
// (its image in the image store, its address taken); `lxzone boot NAME` starts it.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { LxzoneError } from '../errors.js';
import { zoneConfigFromFlags, type ZoneFlagValues } from '../zone/config/zone-flags.js';
import type { ZoneConfig } from '../zone/config/types.js';
import { createZone } from '../zone/lifecycle/api.js';
import { ImageStore } from '../zone/image/store/images.js';
import { zoneImage } from '../zone/image/store/zone-image.js';
import { PullProgress } from './pull-progress.js';
import { addZoneOptions } from './zone-options.js';
import { addResourceOptions, parseResourceFlags, requestedResources, type ResourceFlags } from './resource-options.js';

interface CreateFlags extends ResourceFlags, ZoneFlagValues {
  config?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('create')
    .description('create a zone (validated and stored; boot it with lxzone boot)')
    .argument('<name>', 'the zone name')
    .argument('[command...]', 'what the zone runs (after --; default: the image command, else /bin/sh)')
    .option('--config <file>', 'a zone configuration file (JSON); options below override it');
  addZoneOptions(cmd, 'create')
    .option('--json', 'print the stored configuration as JSON');
  addResourceOptions(cmd, { disk: true }).action(async (name: string, command: string[], f: CreateFlags) => {
    let base: Partial<ZoneConfig> = {};
    if (f.config) {
      const path = resolve(f.config);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new LxzoneError(`--config ${f.config}: ${(e as Error).message}`, { exitCode: 2 });
      }
      try {
        base = JSON.parse(text) as Partial<ZoneConfig>;
      } catch (e) {
        throw new LxzoneError(`zone config "${path}": not valid JSON: ${(e as Error).message}`, { exitCode: 1 });
      }
    }
    // --image that is not a file: a reference of the image store (pulled first if missing).
    let stored: { ref: string; digest: string } | undefined;
    if (f.image && !f.rootfs && f.root !== 'cow' && !existsSync(f.image) && !f.imageFormat && !f.ref) {
      const progress = new PullProgress(process.stderr.isTTY ? 'bars' : 'lines');
      try {
        stored = { ref: f.image, digest: (await zoneImage(new ImageStore(), f.image, progress.event)).record.digest };
      } finally {
        progress.stop();
      }
    }
    const paths = { ...(f.rootfs ? { rootfs: resolve(f.rootfs) } : {}), ...(f.image && !stored ? { image: resolve(f.image) } : {}) };
    const cfg = zoneConfigFromFlags({ ...base, name }, { ...f, ...paths }, command, requestedResources(parseResourceFlags(f)), stored);
    const r = await createZone(cfg);
    for (const w of r.warnings) process.stderr.write(`lxzone: ${w}\n`);
    if (f.json) process.stdout.write(`${JSON.stringify({ ...r.config, ...(r.ipv4 ? { ipv4: r.ipv4, ipv6: r.ipv6 } : {}) }, null, 2)}\n`);
    else process.stdout.write(`${r.config.name}${r.ipv4 ? ` ${r.ipv4}` : ''}\n`);
  });
}
