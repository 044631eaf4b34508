// The probe binaries: built by `make -C fixtures` (static, x86_64 and, with
// gcc-multilib, i386), each listing its cases with `--list`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../errors.js';
import type { Abi } from '../tables/types.js';
import { i386Unavailable } from './i386-runs.js';
import { FIXTURES_DIR, probeDirs } from './paths.js';

/** Builds the fixtures (incremental). Throws with make's output when it fails. */
export function buildFixtures(): void {
  const r = spawnSync('make', ['-s', '-C', FIXTURES_DIR], { encoding: 'utf8' });
  if (r.error) throw new LxzoneError(`cannot run make to build the probes: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) {
    throw new LxzoneError(`building the probes failed (make -C ${FIXTURES_DIR}):\n${(r.stderr || r.stdout).trim().split('\n').slice(-20).join('\n')}`);
  }
}

/** The case names a probe binary declares. */
export function listCases(bin: string): string[] {
  const r = spawnSync(bin, ['--list'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new LxzoneError(`${bin} --list failed: ${r.error?.message ?? r.stderr.trim()}`, { where: bin });
  }
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

export interface ProbeBinary {
  abi: Abi;
  probe: string;
  bin: string;
}

/** The binaries of the manifest's probes present for each of this host's ABIs; missing ABIs are reported. */
export function probeBinaries(probeNames: string[]): { binaries: ProbeBinary[]; missing: { abi: Abi; reason: string }[] } {
  const binaries: ProbeBinary[] = [];
  const missing: { abi: Abi; reason: string }[] = [];
  for (const { abi, dir } of probeDirs()) {
    const notRun = abi === 'i386' ? i386Unavailable() : undefined;
    if (notRun) {
      missing.push({ abi, reason: notRun });
      continue;
    }
    if (!existsSync(dir)) {
      missing.push({ abi, reason: `no ${abi} probes built in ${dir}${abi === 'i386' ? ' (install gcc-multilib)' : ''}` });
      continue;
    }
    for (const probe of probeNames) {
      const bin = join(dir, probe);
      if (!existsSync(bin)) missing.push({ abi, reason: `${bin} is not built` });
      else binaries.push({ abi, probe, bin });
    }
  }
  return { binaries, missing };
}
