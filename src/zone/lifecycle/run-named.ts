// `lxzone run --name NAME ...`: docker's `run --name` without --rm. The zone
// is created from the run's flags and kept; it runs under the daemon (like
// `lxzone boot`), and this command shows its output until it stops and
// exits with its status. SIGINT/SIGTERM halt it. `lxzone boot NAME` runs it
// again; `lxzone destroy NAME` removes it.
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import type { ResourcesConfig } from '../config/types.js';
import { zoneConfigFromFlags, type ZoneFlagValues } from '../config/zone-flags.js';
import { bootZone, createZone, haltZone, inspectZone, zoneLogs } from './api.js';

export interface NamedRunInput {
  name: string;
  command: string[];
  /** Only the flags the user gave: `run`'s one-shot defaults are not a zone's defaults. */
  flags: ZoneFlagValues;
  resources: ResourcesConfig;
}

/** Creates, boots and follows the zone; returns its exit status. */
export async function runNamed(i: NamedRunInput, out: { stdout: (b: Buffer) => void; stderr: (b: Buffer) => void }): Promise<number> {
  if (!i.command.length) throw new LxzoneError('nothing to run: give a command after --', { exitCode: 2 });
  const created = await createZone(zoneConfigFromFlags({ name: i.name }, i.flags, i.command, i.resources));
  for (const w of created.warnings) out.stderr(Buffer.from(`lxzone: ${w}\n`));
  await bootZone(i.name);
  let halting: Promise<unknown> | undefined;
  const halt = () => {
    halting ??= haltZone(i.name).catch(() => undefined);
  };
  process.on('SIGINT', halt);
  process.on('SIGTERM', halt);
  try {
    await zoneLogs(i.name, out, { follow: true });
    await halting;
    // The log ends when the keeper is gone; the daemon records the exit a moment later.
    for (let n = 0; ; n++) {
      const z = await inspectZone(i.name);
      if ((z.state === 'stopped' || z.state === 'failed') && z.lastExit) return z.lastExit.exitCode;
      if (z.state === 'restarting' || n >= 100) return 0; // its restart policy keeps it going
      await sleep(50);
    }
  } finally {
    process.off('SIGINT', halt);
    process.off('SIGTERM', halt);
  }
}
