// linux.uidMappings / linux.gidMappings (a user-namespaced pod's): taken only
// when they name exactly one of the host ranges lxzone gives its zones, which
// is then claimed like any zone's; the host's own ids, a range of another
// zone, mappings that differ or are cut up, and a pod member asking another
// range than its pod's are refused naming the field, leaving nothing behind.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { requestedIdBase } from '../src/oci/id-mappings.js';
import { idBaseOfSlot, slotLayout } from '../src/zone/ids.js';
import { defaultPaths } from '../src/zone/state/paths.js';
import { zoneIdCount } from '../src/zone/subids.js';
import { useOciHarness } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';

describeUnless(rootOnly(), 'lxzone-runc linux.uidMappings / gidMappings', () => {
  const h = useOciHarness('lxz85idm', {
    after: async () => {
      if (existsSync(h.stateDir)) for (const id of readdirSync(h.stateDir)) await h.runc(['delete', '--force', id]);
    },
  });
  const ids = (): string => join(defaultPaths().runtimeDir, 'ids');
  const map = (hostID: number, size = zoneIdCount()) => [{ containerID: 0, hostID, size }];
  const mapped = (name: string, uid: object[], gid: object[] = uid, edit: (c: any) => void = () => undefined): string =>
    h.bundle(name, (c) => {
      c.linux.uidMappings = uid;
      c.linux.gidMappings = gid;
      c.process.args = ['/bin/sleep', '300'];
      edit(c);
    });

  /** A one-shot range no zone holds now, from the end (other zones take them from their pid's place on). */
  const freeSlot = (): number => {
    const { first, count } = slotLayout().transient;
    for (let s = first + count - 1; s >= first; s--) if (!existsSync(join(ids(), String(s)))) return s;
    throw new Error('no free one-shot range');
  };

  const refused = async (id: string, bundle: string, field: string, why: RegExp): Promise<void> => {
    const r = await h.runc(['create', '--bundle', bundle, id]);
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toContain(`config.json ${field}`);
    expect(r.stderr).toMatch(why);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(h.stateDir, id))).toBe(false);
  };

  let m1: { idBase: number; keeper: { pid: number }; initPid: number };
  let slot = 0;

  it('a mapping naming one of lxzone\'s ranges is the zone\'s: its uid_map, its claim, held against another container; the host\'s ids are refused', async () => {
    slot = freeSlot();
    const base = idBaseOfSlot(slot);
    const r = await h.runc(['create', '--bundle', mapped('m1', map(base)), 'm1'], { out: join(h.work, 'm1.out') });
    expect(r.code, r.stderr).toBe(0);
    m1 = JSON.parse(readFileSync(join(h.stateDir, 'm1', 'state.json'), 'utf8'));
    expect(m1.idBase).toBe(base);
    for (const f of ['uid_map', 'gid_map']) {
      expect(readFileSync(`/proc/${m1.initPid}/${f}`, 'utf8').trim().split(/\s+/).map(Number)).toEqual([0, base, zoneIdCount()]);
    }
    // The range is claimed for the container's life, by its keeper.
    expect(JSON.parse(readFileSync(join(ids(), String(slot)), 'utf8')).pid).toBe(m1.keeper.pid);
    await refused('m2', mapped('m2', map(base)), 'linux.uidMappings', /held by another zone/);
    await refused('r1', mapped('r1', map(0)), 'linux.uidMappings', /host ids 0\.\.\d+ are not one of the ranges lxzone gives/);
  }, 90_000);

  it('a pod member\'s mapping must be its pod\'s range (as containerd writes for a user-namespaced pod); the range goes with the last of them', async () => {
    const joining = (c: any): void => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: n.type, path: `/proc/${m1.keeper.pid}/ns/net` } : n));
    };
    const other = idBaseOfSlot(freeSlot());
    await refused('pm1', mapped('pm1', map(other), map(other), joining), 'linux.uidMappings', /not the range of the pod/);
    const ok = await h.runc(['create', '--bundle', mapped('pm2', map(m1.idBase), map(m1.idBase), joining), 'pm2'], { out: join(h.work, 'pm2.out') });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(h.stateDir, 'pm2', 'state.json'), 'utf8')).idBase).toBe(m1.idBase);
    for (const id of ['m1', 'pm2']) expect((await h.runc(['delete', '--force', id])).code).toBe(0);
    expect(existsSync(join(ids(), String(slot)))).toBe(false);
  }, 90_000);

  it('what else is refused: the host\'s ids, a range lxzone does not give, a created zone\'s, a cut-up, short or shifted mapping', () => {
    const base = idBaseOfSlot(freeSlot());
    const cases: [object[], RegExp][] = [
      [map(0), /host ids 0\.\.\d+ are not one of the ranges lxzone gives/],
      [map(base + 1000), /not one of the ranges lxzone gives/],
      // A created zone's range (slot 1) is never a one-shot container's.
      [map(idBaseOfSlot(1)), /not one of the ranges lxzone gives/],
      [map(base, 1000), /a zone maps \d+ ids, not 1000/],
      [[{ containerID: 0, hostID: base, size: 1000 }, { containerID: 1000, hostID: base + 1000, size: zoneIdCount() - 1000 }], /2 entries/],
      [[{ containerID: 1, hostID: base, size: zoneIdCount() }], /container id 0/],
    ];
    for (const [m, why] of cases) expect(() => requestedIdBase(m as never, m as never)).toThrow(why);
    expect(() => requestedIdBase(map(base), map(base + zoneIdCount()))).toThrow(/linux\.gidMappings: .* differs from linux\.uidMappings/);
    expect(requestedIdBase(map(base), map(base))).toBe(base);
    expect(requestedIdBase(undefined, [])).toBeUndefined();
  });

});
