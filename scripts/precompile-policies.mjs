// Part of the build (npm ci / npm run build): compiles the shipped profiles
// for this host's ABIs into dist/policy-cache/, keyed by the content of
// everything a compile reads (src/policy/cache.ts), so that a zone start reads
// its filter instead of compiling it. Run after tsc; the directory is made
// anew each time, so no entry of an older build survives. inputs.stat beside
// the entries records the hash of the inputs (src/policy/cache.ts).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const { compilePolicy } = await import('../dist/policy/compile.js');
const { cacheDir, encodeEntry, policyKey, writeInputsStat } = await import('../dist/policy/cache.js');
const { BUILTIN_PROFILES } = await import('../dist/policy/load.js');
const { hostAbis } = await import('../dist/tables/index.js');
const { driverFilterInput } = await import('../dist/policy/driver-filter.js');
const { utsServerFilterInput } = await import('../dist/policy/uts-server-filter.js');

const dir = cacheDir();
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const abis = hostAbis();
let n = 0;
for (const profile of BUILTIN_PROFILES) {
  for (const allowNesting of [false, true]) {
    for (const netRaw of [false, true]) {
      const input = { profile, abis, allowNesting, netRaw };
      const key = policyKey(input, abis);
      writeFileSync(join(dir, `${key}.json`), encodeEntry(compilePolicy(input)));
      n++;
    }
  }
}
// The FUSE drivers' filter (src/policy/driver-filter.ts) and the UTS sysctl
// server's (src/policy/uts-server-filter.ts), read at every zone start.
for (const input of [driverFilterInput(abis), utsServerFilterInput(abis)]) {
  writeFileSync(join(dir, `${policyKey(input, input.abis)}.json`), encodeEntry(compilePolicy(input)));
  n++;
}
// The inputs' hash with each file's identity: a start need not hash them again.
writeInputsStat();
process.stderr.write(`precompiled ${n} policies (${BUILTIN_PROFILES.join(', ')}, fuse-driver, uts-server; ${abis.join(', ')}) into ${dir}\n`);
