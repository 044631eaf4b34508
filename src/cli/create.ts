// `lxzone create NAME [options] [-- COMMAND...]`: validate and store a zone
// (its image unpacked, its address taken); `lxzone boot NAME` starts it.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { LxzoneError } from '../errors.js';
import { applyZoneFlags } from '../zone/config/flags.js';
import type { ZoneConfig } from '../zone/config/types.js';
import { createZone } from '../zone/lifecycle/api.js';
import { ImageStore } from '../zone/image/store/images.js';
import { zoneImage } from '../zone/image/store/zone-image.js';
import { PullProgress } from './pull-progress.js';
import { addResourceOptions, parseResourceFlags, requestedResources, type ResourceFlags } from './resource-options.js';

interface CreateFlags extends ResourceFlags {
  config?: string;
  rootfs?: string;
  root?: 'ro' | 'cow';
  image?: string;
  imageFormat?: 'auto' | 'rootfs' | 'docker' | 'oci';
  ref?: string;
  hostname?: string;
  kernelVersion?: string;
  profile?: string;
  env: string[];
  volume: string[];
  tmpfs: string[];
  workdir?: string;
  user?: string;
  init: boolean;
  network?: 'none' | 'loopback' | 'zone';
  ip?: string;
  restart?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command): void {
  const cmd = program
    .command('create')
    .description('create a zone (validated and stored; boot it with lxzone boot)')
    .argument('<name>', 'the zone name')
    .argument('[command...]', 'what the zone runs (after --; default: the image command, else /bin/sh)')
    .option('--config <file>', 'a zone configuration file (JSON); options below override it')
    .option('--rootfs <dir>', "a directory to use as the zone's root (read-only)")
    .addOption(new Option('--root <mode>', "the host's root read-only (default), or copy-on-write: writes kept on the zone's disk, never on the host").choices(['ro', 'cow']))
    .option('--image <ref|archive>', 'an image of the image store (pulled first if missing; its layers shared), or an archive: rootfs tar, docker save or OCI layout (unpacked now)')
    .addOption(new Option('--image-format <format>', 'the image format').choices(['auto', 'rootfs', 'docker', 'oci']))
    .option('--ref <ref>', 'which image of a multi-image archive')
    .option('--hostname <name>', "the zone's hostname (default: its name)")
    .option('--kernel-version <release>', 'the kernel release uname(2) reports in the zone')
    .option('--profile <name>', 'the syscall profile')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('-v, --volume <host:zone[:ro]>', 'bind a host path into the zone (repeatable)', collect, [])
    .option('--tmpfs <path[:size=..,mode=..]>', 'a tmpfs in the zone (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory in the zone')
    .option('-u, --user <uid[:gid]|name[:group]>', 'the user the zone runs as')
    .option('--no-init', 'run the command itself as pid 1 (no reaper)')
    .addOption(new Option('--network <mode>', 'zone network (default: zone as root, loopback otherwise)').choices(['none', 'loopback', 'zone']))
    .option('--ip <address>', 'a static IPv4 address on the zone network')
    .option('--restart <policy>', 'no, on-failure[:N], always or unless-stopped')
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
    if (f.rootfs && f.image) throw new LxzoneError('--rootfs and --image exclude each other', { exitCode: 2 });
    if (f.root === 'cow' && (f.rootfs || f.image)) throw new LxzoneError("--root cow is for the host's root; it excludes --rootfs and --image", { exitCode: 2 });
    const cfg: Partial<ZoneConfig> = applyZoneFlags({ ...base, name }, { env: f.env, volume: f.volume, tmpfs: f.tmpfs, user: f.user, workdir: f.workdir, hostname: f.hostname, restart: f.restart });
    if (f.rootfs) cfg.rootfs = { type: 'dir', path: resolve(f.rootfs) };
    else if (f.image && !existsSync(f.image) && !f.imageFormat && !f.ref) {
      // Not a file: a reference of the image store.
      const progress = new PullProgress(process.stderr.isTTY ? 'bars' : 'lines');
      try {
        const img = await zoneImage(new ImageStore(), f.image, progress.event);
        cfg.rootfs = { type: 'store', ref: f.image, digest: img.record.digest };
      } finally {
        progress.stop();
      }
    } else if (f.image) {
      cfg.rootfs = { type: 'image', path: resolve(f.image), ...(f.imageFormat ? { format: f.imageFormat } : {}), ...(f.ref ? { ref: f.ref } : {}) };
    } else if (f.root === 'cow') cfg.rootfs = { type: 'host', copyOnWrite: true };
    else cfg.rootfs ??= { type: 'host' };
    if (f.kernelVersion) cfg.kernelVersion = f.kernelVersion;
    if (f.profile) cfg.profile = f.profile;
    if (!f.init) cfg.init = false;
    if (command.length) cfg.command = command;
    if (f.network || f.ip) cfg.network = { ...(cfg.network ?? { mode: 'zone' }), ...(f.network ? { mode: f.network } : {}), ...(f.ip ? { address: f.ip } : {}) };
    const res = requestedResources(parseResourceFlags(f));
    if (Object.keys(res).length) cfg.resources = { ...(cfg.resources ?? {}), ...res };
    const r = await createZone(cfg);
    for (const w of r.warnings) process.stderr.write(`lxzone: ${w}\n`);
    if (f.json) process.stdout.write(`${JSON.stringify({ ...r.config, ...(r.ipv4 ? { ipv4: r.ipv4, ipv6: r.ipv6 } : {}) }, null, 2)}\n`);
    else process.stdout.write(`${r.config.name}${r.ipv4 ? ` ${r.ipv4}` : ''}\n`);
  });
}
