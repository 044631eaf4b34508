// Issue 9 item 4: real work natively and in a zone. The same static timer
// (fixtures/bench/timeit) runs each task in both places, so the figures are
// the work itself and the zone's start cost (section "start") stays out.
// Inputs live in a scratch directory under /var/tmp, bound read-write into
// the zone at the same path (a zone's /tmp is its own tmpfs).
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ID_BASE, DEFAULT_PATH } from '../../src/zone/run.js';
import { fixture, nativeLoop, progress, which, zoneLoop } from '../lib/exec.js';
import { checkAtMost, type SectionContext } from '../lib/section.js';
import { ratiosTo, row } from '../lib/stats.js';
import type { Row } from '../lib/types.js';

interface Task {
  name: string;
  /** The command, given the variant's own scratch directory. */
  argv: (scratch: string) => string[];
  /** Runs per round (fast tasks get several, so a round is not dominated by its zone's start). */
  perRound: number;
}

/** A small C project: `files` translation units with a few functions each, and main. */
export function generateCProject(dir: string, files: number): void {
  mkdirSync(dir, { recursive: true });
  const decls: string[] = [];
  for (let f = 0; f < files; f++) {
    const fns: string[] = [];
    for (let k = 0; k < 8; k++) {
      const name = `unit${f}_fn${k}`;
      decls.push(`long ${name}(long x);`);
      fns.push(`long ${name}(long x) {
  char buf[64];
  long acc = x;
  for (int i = 0; i < 16; i++) acc = acc * 31 + (long)strlen(buf + (snprintf(buf, sizeof buf, "%ld", acc + i) & 0));
  return acc ^ ${k}L;
}`);
    }
    writeFileSync(join(dir, `unit${f}.c`), `#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include "project.h"\n\n${fns.join('\n\n')}\n`);
  }
  writeFileSync(join(dir, 'project.h'), `#ifndef PROJECT_H\n#define PROJECT_H\n${decls.join('\n')}\n#endif\n`);
  const calls = decls.map((d) => `  acc += ${/long (\w+)\(/.exec(d)![1]}(acc);`).join('\n');
  writeFileSync(join(dir, 'main.c'), `#include <stdio.h>\n#include "project.h"\n\nint main(void) {\n  long acc = 1;\n${calls}\n  printf("%ld\\n", acc);\n  return 0;\n}\n`);
}

export async function work(ctx: SectionContext): Promise<void> {
  const { opts } = ctx;
  const dir = mkdtempSync('/var/tmp/lxzone-bench-work-');
  try {
    // mkdtemp makes it 0700: the zone's root (an unprivileged host uid) must get in.
    chmodSync(dir, 0o755);
    const scratch = { native: join(dir, 'native'), zone: join(dir, 'zone') };
    mkdirSync(scratch.native);
    mkdirSync(scratch.zone);
    // The zone's root is host uid DEFAULT_ID_BASE (passed below): its scratch belongs to it.
    chownSync(scratch.zone, DEFAULT_ID_BASE, DEFAULT_ID_BASE);
    const project = join(dir, 'project');
    generateCProject(project, opts.quick ? 2 : 12);
    const tree = opts.quick ? '/usr/include/linux' : '/usr/include/c++';
    const tarball = join(dir, 'tree.tar.gz');
    nativeLoop([fixture('timeit'), '1', 'tar', '-czf', tarball, '-C', tree, '.']);

    // The zone's root is not the host's: a few root-only directories under /usr
    // (e.g. polkit's rules.d) are unreadable there, so find's complaints are ignored.
    const walk = opts.quick ? '/usr/include/linux' : '/usr';
    const tasks: Task[] = [{ name: `find ${walk}`, argv: () => ['sh', '-c', `find ${walk} 2>/dev/null; exit 0`], perRound: 1 }];
    const python = which('/usr/bin/python3') ?? which('python3');
    if (python) tasks.push({ name: 'python3 -c pass (startup)', argv: () => [python, '-c', 'pass'], perRound: opts.quick ? 1 : 10 });
    else ctx.skip('python3 not found: no python3 startup figure');
    if (which('gcc')) {
      tasks.push({
        name: `gcc -O2, ${opts.quick ? 3 : 13} C files`,
        argv: (s) => ['sh', '-c', `cd ${project} && gcc -O2 -o ${s}/prog *.c`],
        perRound: 1,
      });
    } else ctx.skip('gcc not found: no build figure');
    tasks.push({
      name: `untar + gzip ${tree}`,
      argv: (s) => ['sh', '-c', `rm -rf ${s}/x ${s}/x.tar.gz && mkdir ${s}/x && tar -xzf ${tarball} -C ${s}/x && tar -czf ${s}/x.tar.gz -C ${s}/x . && rm -rf ${s}/x ${s}/x.tar.gz`],
      perRound: 1,
    });

    const zoneOpts = (s: string) => ({
      // A fixed host id range, so the zone's root owns its scratch directory.
      idBase: DEFAULT_ID_BASE,
      binds: [{ host: dir, zone: dir, readOnly: false }],
      env: { TMPDIR: s },
      cwd: s,
    });
    const nativeEnv = (s: string) => ({ env: { PATH: DEFAULT_PATH, HOME: '/root', TMPDIR: s }, cwd: s });
    for (const task of tasks) {
      const n: number[] = [];
      const z: number[] = [];
      const runNative = (k: number) => nativeLoop([fixture('timeit'), String(k), ...task.argv(scratch.native)], nativeEnv(scratch.native));
      const runZone = async (k: number) => (await zoneLoop([fixture('timeit'), String(k), ...task.argv(scratch.zone)], zoneOpts(scratch.zone))).ns;
      progress(`work: ${task.name}: warm-up`);
      runNative(1);
      await runZone(1);
      for (let r = 0; r < opts.workRuns; r++) {
        progress(`work: ${task.name}: round ${r + 1}/${opts.workRuns}`);
        n.push(...runNative(task.perRound));
        z.push(...(await runZone(task.perRound)));
      }
      const rows: Row[] = [row(task.name, 'native', 'ms', n.map((x) => x / 1e6)), row(task.name, 'lxzone', 'ms', z.map((x) => x / 1e6))];
      ratiosTo(rows, () => rows[0]);
      ctx.rows.push(...rows);
      ctx.checks.push(checkAtMost(`${task.name}: lxzone within 3% of native`, rows[1]!.ratio ?? null, 1.03, 'x native'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
