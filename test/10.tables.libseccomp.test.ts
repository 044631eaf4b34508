// An independent second source: libseccomp (libseccomp2, when installed)
// carries its own per-architecture syscall tables. Wherever it knows a name
// or a number, it must agree with ours, in both directions. (libseccomp
// 2.5.4 knows syscalls up to futex_requeue, Linux 6.7, so it also confirms
// the first overlay entries; it maps i386's direct socket and SysV IPC
// calls to negative pseudo numbers, which are not compared.)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ABIS, loadTable } from '../src/tables/index.js';

// "name <arch> <name>..." prints "<name> <nr>"; "num <arch> <max>" prints "<nr> <name>" for
// every number libseccomp can name. dlopen, because libseccomp-dev (the header) is not needed.
const RESOLVER = String.raw`
#include <dlfcn.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  void *h = dlopen("libseccomp.so.2", RTLD_NOW);
  if (!h || argc < 3) return 2;
  int (*by_name)(uint32_t, const char *) = (int (*)(uint32_t, const char *))dlsym(h, "seccomp_syscall_resolve_name_arch");
  char *(*by_num)(uint32_t, int) = (char *(*)(uint32_t, int))dlsym(h, "seccomp_syscall_resolve_num_arch");
  if (!by_name || !by_num) return 3;
  uint32_t arch = (uint32_t)strtoul(argv[2], 0, 0);
  if (strcmp(argv[1], "name") == 0) {
    for (int i = 3; i < argc; i++) printf("%s %d\n", argv[i], by_name(arch, argv[i]));
  } else {
    int max = atoi(argv[3]);
    for (int nr = 0; nr <= max; nr++) {
      char *n = by_num(arch, nr);
      if (n) { printf("%d %s\n", nr, n); free(n); }
    }
  }
  return 0;
}
`;

const dir = mkdtempSync(join(tmpdir(), 'lxzone-libseccomp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function resolver(): string | undefined {
  writeFileSync(join(dir, 'resolve.c'), RESOLVER);
  const bin = join(dir, 'resolve');
  if (spawnSync('gcc', ['-O1', '-o', bin, join(dir, 'resolve.c'), '-ldl']).status !== 0) return undefined;
  return spawnSync(bin, ['num', '0', '0']).status === 0 ? bin : undefined;
}

describe('agreement with libseccomp', () => {
  const bin = resolver();

  it.for(ABIS)('%s: every name libseccomp knows has our number', (abi, ctx) => {
    if (!bin) return ctx.skip('libseccomp.so.2 or gcc not available');
    const t = loadTable(abi);
    const out = execFileSync(bin, ['name', String(t.auditArch), ...t.syscalls.map((s) => s.name)], { encoding: 'utf8' });
    const theirs = new Map(out.trim().split('\n').map((l) => l.split(' ')).map(([n, v]) => [n!, Number(v)]));
    const known = t.syscalls.filter((s) => theirs.get(s.name)! >= 0);
    expect(known.length).toBeGreaterThan(250);
    expect(known.filter((s) => theirs.get(s.name) !== s.nr).map((s) => `${s.name}: ours ${s.nr}, libseccomp ${theirs.get(s.name)}`)).toEqual([]);
  });

  it.for(ABIS)('%s: every number libseccomp can name is ours, with the same name', (abi, ctx) => {
    if (!bin) return ctx.skip('libseccomp.so.2 or gcc not available');
    const t = loadTable(abi);
    const out = execFileSync(bin, ['num', String(t.auditArch), String(t.maxNr + 100)], { encoding: 'utf8' });
    const rows = out.trim().split('\n').map((l) => l.split(' '));
    expect(rows.length).toBeGreaterThan(250);
    const ours = new Map(t.syscalls.map((s) => [s.nr, s.name]));
    expect(rows.filter(([nr, name]) => ours.get(Number(nr)) !== name).map(([nr, name]) => `${nr}: ours ${ours.get(Number(nr))}, libseccomp ${name}`)).toEqual([]);
  });
});
