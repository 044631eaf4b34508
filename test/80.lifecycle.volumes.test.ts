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
    // vb (read-only) sees va's file with the owner va gave it; the zones' maps differ (two host ranges), the owner does not.
    const inB = (await ok(['exec', 'vb', '--', '/bin/sh', '-c', 'stat -c "%u %n" /mnt/a; cat /proc/self/uid_map; echo x > /mnt/b 2>/dev/null && echo writable || echo read-only'])).split('\n');
    expect([inB[0], inB[2]]).toEqual(['1000 /mnt/a', 'read-only']);
    const mapA = (await ok(['logs', 'va'])).trim().split(/\s+/)[1];
    expect(mapA).toMatch(/^[0-9]+$/);
    expect(inB[1]!.trim().split(/\s+/)[1]).not.toBe(mapA);

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
    expect(await ok(['volume', 'rm', 'cvol'])).toBe('cvol\n');
    expect(readdirSync(join(env.stateDir, 'volumes'))).toEqual([]);
    expect((await cli(['volume', 'rm', 'cvol'])).stderr).toMatch(/no such volume: cvol/);
  }, 420_000); // some 15 CLI calls, each a Node start: minutes on a loaded 2-core host
});
