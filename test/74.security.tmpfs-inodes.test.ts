// Issue 14.11: every tmpfs lxzone mounts has an inode bound (nr_inodes), so
// a zone cannot pin kernel memory with empty files, which tmpfs's size=
// does not count. Attacked from inside real zones.
import { describe, expect, it } from 'vitest';
import { runZone } from '../src/zone/run.js';
import { checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

// Creates empty files (a redirection of a builtin, no fork per file; not
// ':', whose failed redirection would end the shell) until the file system
// refuses; stops at `cap` so a missing bound cannot hang the test.
const flood = (dir: string, cap: number) =>
  `i=0; while [ $i -lt ${cap} ] && { true > ${dir}/f$i; } 2>/dev/null; do i=$((i+1)); done; echo ${dir} $i; { true > ${dir}/one-more; } 2>&1`;

describe('tmpfs mounts in a zone', () => {
  it('every tmpfs in the zone reports an inode limit (statfs f_files), none is unbounded', async () => {
    const r = await runZone({
      argv: ['/bin/sh', '-c', `awk '$3 == "tmpfs" { print $2 }' /proc/self/mounts | while read -r m; do echo "$m $(stat -f -c %c "$m")"; done`],
      tmpfs: [{ target: '/srv', sizeBytes: 8 << 20 }],
      stdio: 'pipe',
    });
    expect(r.exitCode).toBe(0);
    // The host's own tmpfs mounts seen through its read-only root are not
    // lxzone's and cannot be written from the zone: only the ones lxzone mounts.
    const ours = /^\/(tmp|run|srv|dev|dev\/shm|proc\/\w+|sys\/.+)$/;
    const rows = r.stdout!.toString().trim().split('\n').map((l) => l.split(' ')).filter(([m]) => ours.test(m!));
    const mounts = rows.map(([m]) => m);
    // The zone's scratch file systems and the masks are all there ...
    for (const m of ['/tmp', '/run', '/dev', '/dev/shm', '/srv', '/proc/acpi', '/sys/firmware']) {
      if (m === '/proc/acpi' && !mounts.includes(m)) continue; // no ACPI on this machine
      expect(mounts).toContain(m);
    }
    // ... and each has a finite inode count (an unbounded tmpfs reports 0).
    for (const [m, files] of rows) {
      expect(Number(files), `${m} has no inode bound`).toBeGreaterThan(0);
      expect(Number(files), m).toBeLessThanOrEqual(16384);
    }
  });

  it('a flood of empty files in /tmp, /dev/shm and a --tmpfs mount stops at the inode bound with ENOSPC', async () => {
    const r = await runZone({
      argv: ['/bin/sh', '-c', [flood('/tmp', 50000), flood('/dev/shm', 50000), flood('/srv', 50000)].join('; ')],
      tmpSize: '8m',
      tmpfs: [{ target: '/srv', sizeBytes: 4 << 20 }],
      stdio: 'pipe',
    });
    const out = r.stdout!.toString();
    // 8 MiB is 2048 pages: 2048 inodes, less the root directory.
    expect(out).toMatch(/^\/tmp 2047$/m);
    expect(out).toMatch(/^\/dev\/shm 2047$/m);
    // 4 MiB: 1024 pages, and 1024 is also the floor.
    expect(out).toMatch(/^\/srv 1023$/m);
    expect(out.match(/No space left on device/g)?.length).toBe(3);
  });
});
