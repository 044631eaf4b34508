// linux.uidMappings / linux.gidMappings (a user-namespaced pod: the kubelet
// picks each pod a host range and containerd writes it into every
// container's config). lxzone gives each zone a host id range itself, cut from
// the ids delegated to it (/etc/subuid, /etc/subgid; src/zone/ids.ts), and
// never maps a host id it was not delegated: the host's system ids, its
// users' and another zone's stay out of every zone. So a mapping is taken
// only when it names exactly a range lxzone would give: one entry each for
// uids and gids, the same, container id 0, host id the start of one of
// lxzone's one-shot ranges, its size the zone's id count. The range is then
// claimed as any zone's (refused if another zone holds it), or, for a pod's
// member, must be the pod's own range. Anything else is refused naming the
// field: lxzone would otherwise map ids it cannot vouch for.
import { LxzoneError } from '../errors.js';
import { idBaseOfSlot, slotLayout, transientSlotAt } from '../zone/ids.js';
import { lxzoneDelegation, zoneIdCount } from '../zone/subids.js';
import type { OciIdMapping } from './spec.js';

function refuse(where: string, why: string): never {
  throw new LxzoneError(`config.json ${where}: ${why}`, { where, code: 'EINVAL' });
}

const show = (m: OciIdMapping): string => `${m.containerID}:${m.hostID}:${m.size}`;

/** The host id base the mappings ask for (undefined: none given, lxzone picks), checked as above. */
export function requestedIdBase(uid: OciIdMapping[] | undefined, gid: OciIdMapping[] | undefined): number | undefined {
  if (!uid?.length && !gid?.length) return undefined;
  const ranges = (): string => {
    const { first, count } = slotLayout().transient;
    return `${idBaseOfSlot(first)}, ${idBaseOfSlot(first + 1)}, ... ${idBaseOfSlot(first + count - 1)} (lxzone's delegation at ${lxzoneDelegation().start})`;
  };
  for (const [field, list] of [['linux.uidMappings', uid], ['linux.gidMappings', gid]] as const) {
    if (list?.length !== 1) refuse(field, `${list?.length ?? 0} entries: lxzone maps one range of ${zoneIdCount()} ids, container id 0 up, give exactly one`);
  }
  const [u, g] = [uid![0]!, gid![0]!];
  if (u.containerID !== g.containerID || u.hostID !== g.hostID || u.size !== g.size) {
    refuse('linux.gidMappings', `${show(g)} differs from linux.uidMappings ${show(u)}: a zone's uids and gids map to the same host range`);
  }
  if (u.containerID !== 0) refuse('linux.uidMappings', `${show(u)}: the range must start at container id 0`);
  if (u.size !== zoneIdCount()) refuse('linux.uidMappings', `${show(u)}: a zone maps ${zoneIdCount()} ids, not ${u.size}`);
  if (transientSlotAt(u.hostID) === undefined) {
    refuse('linux.uidMappings', `${show(u)}: host ids ${u.hostID}..${u.hostID + u.size - 1} are not one of the ranges lxzone gives its zones: ${ranges()}`);
  }
  return u.hostID;
}
