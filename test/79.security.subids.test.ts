// Issue 14.2: zone id ranges vs the host's subordinate ids. useradd's users
// get ranges in /etc/subuid and /etc/subgid; zones used to take the same
// ids (the second user got exactly zone slot 1's), so that user could reach
// the zone's processes and files. Zone ranges now come from a range
// delegated to lxzone in both files; a zone whose range another owner
// overlaps is refused; a zone may have more than 65536 ids; ids outside its
// range are refused by the kernel (EINVAL), as documented.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { idBaseOfSlot, slotLayout } from '../src/zone/ids.js';
import { runZone, startZone } from '../src/zone/run.js';
import { DELEGATION_SIZE, lxzoneDelegation, parseSubidFile, SUBID_OWNER } from '../src/zone/subids.js';
import { addHostUser, type HostUser } from './support/host-user.js';

const users: HostUser[] = [];
afterAll(() => {
  for (const u of users) u.remove();
});

const overlaps = (a: { start: number; count: number }, b: { start: number; count: number }) => a.start < b.start + b.count && b.start < a.start + a.count;

function uidMapOf(out: string): { start: number; count: number } {
  const [, host, count] = out.trim().split('\n')[0]!.trim().split(/\s+/).map(Number);
  return { start: host!, count: count! };
}

describe('zone id ranges and /etc/subuid, /etc/subgid', () => {
  it("records lxzone's delegation in both files, and users useradd makes get ranges no zone can have", async () => {
    const d = lxzoneDelegation();
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      const mine = parseSubidFile(readFileSync(file, 'utf8')).filter((r) => r.owner === SUBID_OWNER);
      expect(mine).toEqual([{ owner: SUBID_OWNER, start: d.start, count: DELEGATION_SIZE }]);
    }
    users.push(addHostUser('lxzsa'), addHostUser('lxzsb'));
    const zones = [startZone({ argv: ['/bin/sh', '-c', 'cat /proc/self/uid_map; sleep 1'], stdio: 'pipe' }), startZone({ argv: ['/bin/sh', '-c', 'cat /proc/self/gid_map; sleep 1'], stdio: 'pipe' })];
    const maps = (await Promise.all(zones.map((z) => z.wait()))).map((r) => uidMapOf(r.stdout!.toString()));
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      const ranges = parseSubidFile(readFileSync(file, 'utf8'));
      for (const u of users) {
        const theirs = ranges.filter((r) => r.owner === u.name);
        expect(theirs.length, `${u.name} has subordinate ids in ${file}`).toBeGreaterThan(0);
        for (const r of theirs) {
          expect(overlaps(r, d), `${u.name}'s ${r.start}:${r.count} overlaps lxzone's`).toBe(false);
          for (const m of maps) expect(overlaps(r, m)).toBe(false);
          // Nor does any slot a zone can be given.
          const { transient } = slotLayout();
          expect(overlaps(r, { start: idBaseOfSlot(0), count: (transient.first + transient.count) * 65536 })).toBe(false);
        }
      }
    }
    for (const m of maps) expect(overlaps(m, d) && m.start >= d.start && m.start + m.count <= d.start + d.count).toBe(true);
  });

  it("refuses to start a zone whose range another owner's subordinate ids overlap", async () => {
    // An admin's edit after the delegation: an owner given part of lxzone's range.
    const victim = idBaseOfSlot(slotLayout().transient.first + slotLayout().transient.count - 1);
    const line = `lxzt-intruder:${victim + 1000}:10\n`;
    appendFileSync('/etc/subgid', line);
    try {
      await expect(runZone({ argv: ['/bin/true'], idBase: victim, stdio: 'pipe' })).rejects.toThrow(
        new RegExp(`host gids ${victim}-${victim + 65535} overlap lxzt-intruder's subordinate ids ${victim + 1000}-${victim + 1009} in /etc/subgid`),
      );
    } finally {
      writeFileSync('/etc/subgid', readFileSync('/etc/subgid', 'utf8').replace(line, ''));
    }
    // Outside the delegation altogether.
    await expect(runZone({ argv: ['/bin/true'], idBase: 1000, stdio: 'pipe' })).rejects.toThrow(/host ids 1000-66535 are outside the range delegated to lxzone/);
  });

  it('gives a zone more than 65536 ids with LXZONE_ZONE_IDS; ids beyond its range are EINVAL', async () => {
    const script = 'cat /proc/self/uid_map; touch /tmp/f; chown 131071 /tmp/f && echo inside-ok; chown 131072 /tmp/f 2>&1; chown 2147483648 /tmp/f 2>&1; true';
    const saved = process.env.LXZONE_ZONE_IDS;
    process.env.LXZONE_ZONE_IDS = '131072';
    try {
      // The last two default slots of the delegation: what no other zone is likely to hold now.
      const d = lxzoneDelegation();
      const r = await runZone({ argv: ['/bin/sh', '-c', script], idBase: d.start + d.count - 131072, stdio: 'pipe' });
      const out = r.stdout!.toString();
      expect(uidMapOf(out)).toEqual({ start: d.start + d.count - 131072, count: 131072 });
      expect(out).toMatch(/^inside-ok$/m);
      expect(out.match(/Invalid argument/g)?.length).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.LXZONE_ZONE_IDS;
      else process.env.LXZONE_ZONE_IDS = saved;
    }
    const r = await runZone({ argv: ['/bin/sh', '-c', 'touch /tmp/f; chown 65536 /tmp/f 2>&1; cat /proc/self/uid_map'], stdio: 'pipe' });
    expect(r.stdout!.toString()).toMatch(/Invalid argument/);
    expect(uidMapOf(r.stdout!.toString().split('\n').slice(1).join('\n')).count).toBe(65536);
  });
});
