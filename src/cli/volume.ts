// `lxzone volume create|ls|inspect|rm`: the volume store (src/zone/volumes/),
// the one the Docker API's volumes are. A zone names one with `-v NAME:PATH`
// (create, run --name); a volume is not removed while any zone names it.
import type { Command } from 'commander';
import { LxzoneError } from '../errors.js';
import { table } from '../zone/lifecycle/format.js';
import { ZoneStore } from '../zone/state/store.js';
import { VolumeStore } from '../zone/volumes/store.js';
import { removeUnusedVolume, volumesWithUsers, zonesUsingVolume } from '../zone/volumes/users.js';

const collect = (v: string, all: string[]) => [...all, v];

function labelsOf(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    const i = s.indexOf('=');
    out[i < 0 ? s : s.slice(0, i)] = i < 0 ? '' : s.slice(i + 1);
  }
  return out;
}

export function register(program: Command): void {
  const stores = () => {
    const zones = new ZoneStore();
    return { zones, volumes: new VolumeStore(zones.stateDir) };
  };
  const cmd = program.command('volume').description('volumes: directories that outlive zones, shared by the zones that name them (-v NAME:PATH)');
  cmd
    .command('create')
    .description('make a volume (an existing one is left as it is)')
    .argument('<name>', 'the volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+')
    .option('-l, --label <key=value>', 'a label (repeatable)', collect, [])
    .action((name: string, f: { label: string[] }) => {
      stores().volumes.create(name, { labels: labelsOf(f.label) });
      process.stdout.write(`${name}\n`);
    });
  cmd
    .command('ls')
    .alias('list')
    .description('list the volumes and the zones that name them')
    .option('--json', 'print them as JSON')
    .action((f: { json?: boolean }) => {
      const { zones, volumes } = stores();
      const rows = volumesWithUsers(zones, volumes);
      if (f.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      process.stdout.write(table([['NAME', 'CREATED', 'ZONES'], ...rows.map((r) => [r.name, r.createdAt, r.zones.join(',') || '-'])]));
    });
  cmd
    .command('inspect')
    .description('a volume as JSON: its record, its data directory and the zones that name it')
    .argument('<name>')
    .action((name: string) => {
      const { zones, volumes } = stores();
      const v = volumes.get(name);
      if (!v) throw new LxzoneError(`no such volume: ${name}`, { code: 'ENOENT', exitCode: 1 });
      process.stdout.write(`${JSON.stringify({ ...v, mountpoint: volumes.dataDir(name), zones: zonesUsingVolume(zones, name) }, null, 2)}\n`);
    });
  cmd
    .command('rm')
    .description('remove volumes and their files (refused while a zone, running or not, names one)')
    .argument('<name...>')
    .action((names: string[]) => {
      const { zones, volumes } = stores();
      for (const name of names) {
        removeUnusedVolume(zones, volumes, name);
        process.stdout.write(`${name}\n`);
      }
    });
}
