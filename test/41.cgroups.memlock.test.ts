// mlock within a zone's memory cap (issue 21.6, src/zone/zone-rlimits.ts): a
// zone with a memory cap gets RLIMIT_MEMLOCK = the cap (locked pages are
// charged to its memory cgroup), where the launcher may raise a hard limit
// (CAP_SYS_RESOURCE of the host; a confined root without it leaves the limit
// as it was rather than fail the zone). An uncapped zone keeps the default.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runZone, type RunOptions } from '../src/zone/run.js';
import { canRaiseHardLimits, RLIMIT_MEMLOCK, zoneRlimits } from '../src/zone/zone-rlimits.js';
import { checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

const CAP = 256 * 1024 * 1024;
// Locks N MiB, then prints the soft and hard RLIMIT_MEMLOCK.
const PROBE = String.raw`
import ctypes, errno, mmap, resource, sys
libc = ctypes.CDLL(None, use_errno=True)
n = int(sys.argv[1]) << 20
m = mmap.mmap(-1, n)
a = ctypes.addressof(ctypes.c_char.from_buffer(m))
r = libc.mlock(ctypes.c_void_p(a), ctypes.c_size_t(n))
print('ok' if r == 0 else errno.errorcode[ctypes.get_errno()], *resource.getrlimit(resource.RLIMIT_MEMLOCK))
`;

async function lock(mib: number, opts: Partial<RunOptions>): Promise<string> {
  const r = await runZone({ argv: ['/usr/bin/python3', '-c', PROBE, String(mib)], stdio: 'pipe', ...opts });
  expect(r.stderr?.toString() ?? '').toBe('');
  return r.stdout?.toString().trim() ?? '';
}

function hostMemlock(): [number, number] {
  const line = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))!;
  return [Number(line[1]), Number(line[2])];
}

describe('RLIMIT_MEMLOCK of a zone', () => {
  it('is the memory cap for a capped zone (only where the host lets the launcher raise it), nothing for others', () => {
    const procs = ['/sys/fs/cgroup/x/cgroup.procs'];
    expect(zoneRlimits({ cgroupProcs: procs, memoryLimit: CAP }, () => true)).toEqual([{ resource: RLIMIT_MEMLOCK, soft: BigInt(CAP), hard: BigInt(CAP) }]);
    expect(zoneRlimits({ cgroupProcs: procs, memoryLimit: CAP }, () => false)).toBeUndefined();
    expect(zoneRlimits({ memoryLimit: CAP }, () => true)).toBeUndefined();
    expect(zoneRlimits({ cgroupProcs: procs }, () => true)).toBeUndefined();
    const given = { resource: RLIMIT_MEMLOCK, soft: 1n, hard: 2n };
    expect(zoneRlimits({ cgroupProcs: procs, memoryLimit: CAP, rlimits: [given] }, () => true)).toEqual([given]);
  });

  it('lets a capped zone lock 64 MiB where the host allows it; the zone starts either way', async () => {
    const out = await lock(64, { limits: { memory: CAP } });
    if (canRaiseHardLimits()) expect(out).toBe(`ok ${CAP} ${CAP}`);
    else expect(out).toBe(`ENOMEM ${hostMemlock().join(' ')}`);
  });

  it('keeps the default for an uncapped zone (nothing would bound what it locks)', async () => {
    expect(await lock(64, {})).toBe(`ENOMEM ${hostMemlock().join(' ')}`);
  });
});
