// When a launch description is stale (docs/parts/fast-run.md): the native
// front end must not start a zone from a plan older than the code and the
// facts it would be planned from now. It goes to Node, which runs the zone
// and writes the description anew; the run succeeds either way.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, stop } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LAUNCH_DESCRIPTION_VERSION } from '../src/seam.generated.js';
import { checkFrontRunsLeaveNothing, descriptionRecords, frontCli, inputFilesOf, said } from './support/front.js';
import { describeUnless, rootOnly } from './support/skip.js';
import { ownTempDir, repoRoot } from './support/zones.js';

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

/**
 * An installation as tsc alone leaves it (no dist/cli-bundle/: bin/lxzone.js runs dist/cli/main.js) at
 * `at`: a copy of this one's bin/, dist/, rules and tables and native programs, so that a module of it
 * can change without changing the code that concurrent test files run.
 */
function unbundledInstallation(at: string): void {
  mkdirSync(join(at, 'build', 'Release'), { recursive: true });
  for (const f of ['bin', 'package.json', 'syscall-tables']) cpSync(join(repoRoot, f), join(at, f), { recursive: true });
  cpSync(join(repoRoot, 'dist'), join(at, 'dist'), { recursive: true, filter: (src) => src !== join(repoRoot, 'dist', 'cli-bundle') });
  for (const f of ['lxzone-front', 'lxzone-shim', 'lxzone.node', 'lxzone-fusermount']) cpSync(join(repoRoot, 'build', 'Release', f), join(at, 'build', 'Release', f));
  // Packages are only read: the copy's modules find them where npm put them.
  symlinkSync(join(repoRoot, 'node_modules'), join(at, 'node_modules'));
}

/** The modules of ours that `lxzone run`'s code imports, statically or dynamically, as esbuild's bundler finds them. */
async function runModulesAsBundled(root: string): Promise<string[]> {
  try {
    const { metafile } = await build({
      entryPoints: [join(root, 'dist', 'cli', 'run.js')], bundle: true, write: false, metafile: true,
      platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent', absWorkingDir: root,
    });
    return Object.keys(metafile.inputs).map((f) => resolve(root, f)).sort();
  } finally {
    await stop(); // its service process, which would outlive the test
  }
}

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

  it('unbundled, it lists every module the run verb\'s code imports: a changed planning module makes it stale', async () => {
    const inst = join(dir, 'unbundled');
    unbundledInstallation(inst);
    const { lxzone: lxzoneThere } = frontCli(() => runtime, inst);
    const args = ['run', '--network', 'none', '--', '/bin/sh', '-c', 'echo hi'];
    const path = descriptionOf({ network: 'none' });
    const first = await lxzoneThere(args);
    expect(said(first)).toMatch(/^lxzone: front: node runs it: /);
    expect([first.code, first.stdout]).toEqual([0, 'hi\n']);
    // Every module of the graph, as a bundler finds it from dist/cli/run.js (launch-description.js,
    // which run.js imports dynamically, the planner, the policy compiler, ...); none of dist/cli-bundle.
    const listed = inputFilesOf(path);
    const modules = await runModulesAsBundled(inst);
    const plannerPath = join(inst, 'dist', 'zone', 'shim-plan.js');
    expect(modules).toEqual(expect.arrayContaining([join(inst, 'dist', 'cli', 'launch-description.js'), plannerPath]));
    expect(listed).toEqual(expect.arrayContaining(modules));
    expect(listed.filter((f) => f.includes('/cli-bundle/'))).toEqual([]);
    expect(said(await lxzoneThere(args))).toBe(`lxzone: front: using ${path}\n`);
    // The planner changes (a new file in its place, as a rebuild leaves it): stale; Node runs it and writes
    // it anew, and the next run uses that.
    writeFileSync(`${plannerPath}.new`, `${readFileSync(plannerPath, 'utf8')}// changed\n`);
    renameSync(`${plannerPath}.new`, plannerPath);
    const r = await lxzoneThere(args);
    expect(said(r)).toBe(`lxzone: front: node runs it: ${path} is stale: input file changed: ${plannerPath}\n`);
    expect([r.code, r.stdout]).toEqual([0, 'hi\n']);
    expect(said(await lxzoneThere(args))).toBe(`lxzone: front: using ${path}\n`);
  }, 180_000);
});
