// `lxzone update NAME [--memory SIZE] [--memory-swap SIZE] [--cpus N] [--cpu-shares N] [--pids-limit N] [--disk SIZE]`:
// change a zone's caps ("max" removes one). The work is the lifecycle's
// (src/zone/lifecycle/caps.ts updateZoneCaps): a running zone at once, the
// configuration for the next boot.
import { Command } from 'commander';
import { LxzoneError } from '../errors.js';
import { updateZoneCaps } from '../zone/lifecycle/caps.js';
import { ZoneStore } from '../zone/state/index.js';
import { addResourceOptions, parseResourceFlags, type ResourceFlags } from './resource-options.js';

interface UpdateFlags extends ResourceFlags {
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('update')
    .description('change the resource caps of a zone (a running zone at once; kept for the next boot)')
    .argument('<name>', 'zone name')
    .option('--json', 'print the resulting resources as JSON');
  addResourceOptions(cmd, { max: true, disk: true }).action(async (name: string, flags: UpdateFlags) => {
    const request = parseResourceFlags(flags, { max: true });
    if (request.diskBytes === null) {
      throw new LxzoneError(`option --disk ${JSON.stringify(flags.disk)}: a zone's disk can grow, not be removed`, { code: 'EINVAL', exitCode: 2 });
    }
    const out = await updateZoneCaps(new ZoneStore(), name, request);
    if (out.note) process.stderr.write(`lxzone: ${out.note}\n`);
    const { note: _note, ...shown } = out;
    process.stdout.write(flags.json ? `${JSON.stringify(shown, null, 2)}\n` : `${name}: updated${out.running ? ' (running zone and config)' : ' (config; applies at next boot)'}\n`);
  });
}
