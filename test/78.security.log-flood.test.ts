// Logs, attacked (issue 14.6): a zone's stdout and stderr are pipes its
// keeper owns, never a host file, so ftruncate(1, 2 GiB) does nothing to the
// host; a flood never puts more than the cap on disk, at any moment; and the
// daemon does no log work, so it answers while a zone floods.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ZoneInfo } from '../src/zone/lifecycle/types.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const CAP = 256 * 1024;
const env = useLifecycleEnv(78);
process.env.LXZONE_LOG_MAX_BYTES = String(CAP);
const { cli, ok } = env;

const FLOOD = `
import os, sys
for fd in (1, 2):
    try:
        os.ftruncate(fd, 2 << 30)
        print('ftruncate', fd, 'succeeded', file=sys.stderr, flush=True)
    except OSError as e:
        print('ftruncate', fd, 'errno', e.errno, file=sys.stderr, flush=True)
line = b'x' * 1023 + b'\\n'
chunk = line * 64
while True:
    os.write(1, chunk)
`;

/** Bytes of every file in the zone's log directory (the logs, their rotated copies, the counters). */
function onDisk(dir: string): number {
  if (!existsSync(dir)) return 0;
  let sum = 0;
  for (const f of readdirSync(dir)) {
    try {
      sum += statSync(join(dir, f)).size;
    } catch {
      // replaced by a rotation between readdir and stat
    }
  }
  return sum;
}

describe('logs under attack', () => {
  it('ftruncate on stdout fails in the zone; a flood stays under the cap at every moment; the daemon answers meanwhile', async () => {
    await ok(['create', 'flood', '--network', 'loopback', '--', '/usr/bin/python3', '-c', FLOOD]);
    await ok(['boot', 'flood']);
    const dir = join(env.stateDir, 'zones', 'flood', 'logs');
    let max = 0;
    let samples = 0;
    const sampling = (async () => {
      const end = Date.now() + 8000;
      while (Date.now() < end) {
        max = Math.max(max, onDisk(dir));
        samples++;
        await sleep(5);
      }
    })();
    // The daemon answers while the zone floods (a generous bound: correctness, not speed).
    const listed = await cli(['list', '--json'], { timeoutMs: 60_000 });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as ZoneInfo[]).find((z) => z.name === 'flood')?.state).toBe('running');
    await sampling;
    expect(samples).toBeGreaterThan(50);
    // Rotations happened (the flood is far over the cap) and the disk never held more than it
    // (plus the two small rotation counters).
    expect(existsSync(join(dir, 'stdout.log.1'))).toBe(true);
    expect(max).toBeGreaterThan(CAP / 4);
    expect(max).toBeLessThanOrEqual(CAP + 64);
    const logs = await cli(['logs', 'flood'], { timeoutMs: 60_000 });
    expect(logs.stderr).toContain('ftruncate 1 errno 22\n');
    expect(logs.stderr).toContain('ftruncate 2 errno 22\n');
    expect(logs.stderr).not.toContain('succeeded');
    const tail = await cli(['logs', '--tail', '1', 'flood'], { timeoutMs: 60_000 });
    expect(tail.stdout).toMatch(/^x{1,1023}\n?$/); // a rotation may cut a line
    const halted = JSON.parse(await ok(['halt', 'flood', '--json'])) as ZoneInfo;
    expect(halted.state).toBe('stopped');
    await waitFor(() => onDisk(dir) <= CAP + 64);
    expect(onDisk(dir)).toBeLessThanOrEqual(CAP + 64);
  });
});
