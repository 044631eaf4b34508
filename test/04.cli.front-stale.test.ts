// When a launch description is stale (docs/parts/fast-run.md): the native
// front end must not start a zone from a plan older than the code and the
// facts it would be planned from now. It goes to Node, which runs the zone
// and writes the description anew; the run succeeds either way.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LAUNCH_DESCRIPTION_VERSION } from '../src/seam.generated.js';
import { checkFrontRunsLeaveNothing, descriptionRecords, frontCli, said } from './support/front.js';
import { describeUnless, rootOnly } from './support/skip.js';
import { ownTempDir } from './support/zones.js';

let dir: string;
let runtime: string;

const { lxzone, descriptionOf, withDescription } = frontCli(() => runtime);

/** The records of a description's shim config (hex in its config record). */
const configRecords = (records: string[]): string[] => descriptionRecords(Buffer.from(records.find((r) => r.startsWith('config='))!.slice('config='.length), 'hex'));
const joinRecords = (records: string[]): Buffer => Buffer.from(records.map((r) => `${r}\0`).join(''), 'latin1');

// The zone writes its hostname through /proc/sys/kernel/hostname: only lxzone-utsfs, the zone's
// hostname server, makes that work (a zone without one cannot write the file).
const HOSTNAME_ARGS = ['run', '--', '/bin/sh', '-c', 'echo viaproc > /proc/sys/kernel/hostname; echo written $?; cat /proc/sys/kernel/hostname; uname -n'];
const HOSTNAME_WRITTEN = 'written 0\nviaproc\nviaproc\n';

describeUnless(rootOnly('zones with one-shot host id ranges'), 'a stale launch description: Node runs the zone and writes it anew', () => {
  beforeAll(() => {
    dir = ownTempDir(mkdtempSync(join(tmpdir(), 'lxz-front-stale-')));
    runtime = join(dir, 'runtime');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  checkFrontRunsLeaveNothing(() => runtime);

  it('one written before the shim config gained a record every zone\'s config has (uts-server-filter) is stale: the zone gets its hostname server', async () => {
    const path = descriptionOf({});
    await withDescription(['run', '--', '/bin/true'], path);
    const current = descriptionRecords(readFileSync(path));
    expect(current[0]).toBe(`version=${LAUNCH_DESCRIPTION_VERSION}`);
    expect(configRecords(current).filter((r) => r.startsWith('uts-server-filter=')), 'a current config holds the hostname server\'s filter').toHaveLength(1);
    // As a description written before 496f6e1 was: version=1 and no uts-server-filter record in its
    // config; every input as it is now (its files, directories and environment unchanged since).
    const oldConfig = configRecords(current).filter((r) => !r.startsWith('uts-server-filter='));
    const old = ['version=1', ...current.slice(1).map((r) => (r.startsWith('config=') ? `config=${joinRecords(oldConfig).toString('hex')}` : r))];
    writeFileSync(path, joinRecords(old));
    const r = await lxzone(HOSTNAME_ARGS);
    expect(said(r)).toBe(`lxzone: front: node runs it: ${path} is stale: written for another format (its first record is not version=${LAUNCH_DESCRIPTION_VERSION})\n`);
    expect([r.code, r.stdout]).toEqual([0, HOSTNAME_WRITTEN]);
    // Node wrote it anew, in the current format; the front end uses that, and its zone has the server too.
    const rewritten = descriptionRecords(readFileSync(path));
    expect(rewritten[0]).toBe(`version=${LAUNCH_DESCRIPTION_VERSION}`);
    expect(configRecords(rewritten).filter((rec) => rec.startsWith('uts-server-filter='))).toHaveLength(1);
    const again = await lxzone(HOSTNAME_ARGS);
    expect(said(again)).toBe(`lxzone: front: using ${path}\n`);
    expect([again.code, again.stdout]).toEqual([0, HOSTNAME_WRITTEN]);
  }, 180_000);
});
