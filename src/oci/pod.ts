// A pod: containers that join a sandbox container's namespaces by path
// (linux.namespaces[].path, as containerd's CRI plugin writes them for every
// container after the pause container). When the namespaces named are those
// of a running container of this --root, the new container is a member of
// that container's pod: its zone enters the sandbox zone's user namespace and
// shares its host id range, as one user-namespaced pod does, so files in
// shared volumes and IPC objects have the same owners in every container of
// the pod, and the container's root holds its capabilities over the pod's
// network, IPC and UTS namespaces. The shim checks the kernel's answer again
// (native/shim/joined_namespaces.h): what this file finds is a choice of
// pod, never a permission.
import { statSync } from 'node:fs';
import { LxzoneError } from '../errors.js';
import type { JoinedNamespaces } from './translate.js';
import { keeperAlive, type ContainerRecord, type StateRoot } from './state.js';

export interface PodJoin {
  /** The namespaces the shim joins by path (user is not one: usernsPid is). */
  namespaces: { net?: string; ipc?: string; uts?: string };
  /** A running container of the pod whose namespaces these are (the sandbox or a member), when they are one's of this root. */
  sandbox?: ContainerRecord;
}

function inode(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

function refuse(type: string, why: string): never {
  throw new LxzoneError(`config.json linux.namespaces (${type}): ${why}`, { code: 'EPERM' });
}

/** The pod a container belongs to: its sandbox's id (its own, for a sandbox). */
export function podOf(rec: ContainerRecord): string {
  return rec.pod ?? rec.id;
}

/** Which running container of `root` (if any) each joined namespace is, and the one pod they make. */
export function resolvePod(root: StateRoot, ownId: string, joins: JoinedNamespaces): PodJoin {
  const { user, ...namespaces } = joins;
  const live: ContainerRecord[] = [];
  for (const id of root.ids()) {
    if (id === ownId) continue;
    try {
      const rec = root.load(id);
      if (keeperAlive(rec)) live.push(rec);
    } catch {
      /* a container being created or deleted right now: not a pod to join */
    }
  }
  let sandbox: ContainerRecord | undefined;
  for (const [type, path] of Object.entries(joins) as [keyof JoinedNamespaces, string][]) {
    const ino = inode(path);
    if (!ino) refuse(type, `${path} cannot be read`);
    // The host's own: a zone never shares them (runc would; see docs/kubernetes.md).
    if (ino === inode(`/proc/self/ns/${type}`)) refuse(type, `${path} is the host's own ${type} namespace: a zone never shares the host's namespaces (hostNetwork, hostIPC are refused)`);
    const owner = live.find((rec) => inode(`/proc/${rec.initPid}/ns/${type}`) === ino);
    if (!owner) {
      if (type === 'user') refuse(type, `${path} is not the user namespace of a running container of this lxzone-runc root: a zone's user namespace is its own or its pod's`);
      continue; // made by someone else (CNI's pod network): the shim checks it belongs to no other user namespace
    }
    // A member of a pod shares the sandbox's namespaces: the pod is the sandbox's id.
    if (sandbox && podOf(sandbox) !== podOf(owner)) refuse(type, `${path} is container ${owner.id}'s, the other namespaces are container ${sandbox.id}'s: a container joins one pod`);
    sandbox ??= owner;
  }
  if (user && !sandbox) refuse('user', 'unreachable');
  return { namespaces, ...(sandbox ? { sandbox } : {}) };
}
