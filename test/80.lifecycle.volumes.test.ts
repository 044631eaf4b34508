// lxzone's own volumes through the CLI: `create -v NAME:PATH` (the volume
// made at the first boot), two zones of different host id ranges sharing
// its files with the same owners, `lxzone volume ls/inspect/rm` (refused
// while a zone names it), a one-shot run refused with a volume, bad names
// refused, nothing left after rm.
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { rootOnly } from './support/skip.js';

const why = rootOnly('volumes are mounted id-mapped into zones');
const env = useLifecycleEnv(69);
const { cli, ok } = env;

describe.skipIf(why !== undefined)(`lxzone volumes${why ? ` (skipped: ${why})` : ''}`, () => {
  it('create -v NAME:PATH shares a volume between zones with the same owners; volume ls/inspect/rm', async () => {
    await ok(['create', 'va', '--network', 'none', '-v', 'cvol:/mnt', '--', '/bin/sh', '-c', 'echo a > /mnt/a; chown 1000 /mnt/a; cat /proc/self/uid_map; sleep 600']);
    await ok(['create', 'vb', '--network', 'none', '-v', 'cvol:/mnt:ro', '--', '/bin/sh', '-c', 'sleep 600']);
    await ok(['boot', 'va']);
    const logs = join(env.stateDir, 'volumes', 'cvol', '_data', 'a');
    await waitFor(() => existsSync(logs) && lstatSync(logs).uid === 1000, 60_000, 200);
    await ok(['boot', 'vb']);
    expect(await ok(['exec', 'vb', '--', '/bin/stat', '-c', '%u %n', '/mnt/a'])).toBe('1000 /mnt/a\n');
    const ro = await cli(['exec', 'vb', '--', '/bin/sh', '-c', 'echo x > /mnt/b']);
    expect(ro.code).not.toBe(0);
    // Two ranges: the zones' maps differ, the owner does not.
    const maps = await Promise.all(['va', 'vb'].map((z) => ok(['exec', z, '--', '/bin/cat', '/proc/self/uid_map'])));
    expect(maps[0]!.trim().split(/\s+/)[1]).not.toBe(maps[1]!.trim().split(/\s+/)[1]);

    const listed = JSON.parse(await ok(['volume', 'ls', '--json'])) as { name: string; zones: string[] }[];
    expect(listed.map((v) => [v.name, v.zones])).toEqual([['cvol', ['va', 'vb']]]);
    expect(JSON.parse(await ok(['volume', 'inspect', 'cvol'])).mountpoint).toBe(join(env.stateDir, 'volumes', 'cvol', '_data'));
    const busy = await cli(['volume', 'rm', 'cvol']);
    expect([busy.code, busy.stderr]).toEqual([1, expect.stringMatching(/volume cvol is in use by zones va, vb/)]);
    // Bad input: a bad name, a one-shot run naming a volume (no zone keeps it from removal).
    const bad = await cli(['volume', 'create', 'b@d']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid characters for a local volume name/);
    const oneShot = await cli(['run', '-v', 'cvol:/mnt', '--', '/bin/true']);
    expect(oneShot.code).toBe(2);
    expect(oneShot.stderr).toMatch(/a volume needs a named zone/);

    await ok(['destroy', '--force', 'va']);
    await ok(['destroy', '--force', 'vb']);
    await ok(['volume', 'create', '-l', 'k=v', 'other']);
    expect(await ok(['volume', 'rm', 'cvol', 'other'])).toBe('cvol\nother\n');
    expect(readdirSync(join(env.stateDir, 'volumes'))).toEqual([]);
    expect((await cli(['volume', 'rm', 'cvol'])).stderr).toMatch(/no such volume: cvol/);
  });
});
