// Which cgroup hierarchy this host offers, decided at runtime from
// /proc/self/mountinfo: cgroup v2 when a cgroup2 mount has the controllers we
// need in its cgroup.controllers (the unified layout), else cgroup v1 with one
// mount per controller (or co-mounted groups such as "cpu,cpuacct"). A hybrid
// host — v1 controllers plus a cgroup2 mount without memory/cpu/pids, like CI —
// is v1 (its cgroup2 mount offers only hugetlb here).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../errors.js';

/** The v1 controllers a zone is placed in. memory/cpu/cpuacct/pids carry caps and usage;
 *  cpuset and freezer are joined so LXCFS sees one path everywhere and destroy can freeze a fork bomb. */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids', 'cpuset', 'freezer'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];
/** The v2 controllers enabled for zones (cpuset only if offered). */
export const V2_CONTROLLERS = ['memory', 'cpu', 'pids', 'cpuset'] as const;

export interface CgroupHost {
  version: 1 | 2;
  /** v1: controller -> mount directory (co-mounted controllers share one). */
  v1Mounts: Map<string, string>;
  /** v2: the unified mount directory. */
  v2Root?: string;
  /** v2: controllers listed in the root's cgroup.controllers. */
  v2Controllers: string[];
  /** This process's cgroup path (v1: in the memory hierarchy; v2: the unified one), e.g. "/" or "/system.slice/x". */
  ownPath: string;
}

function unescapeMount(s: string): string {
  return s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function detectCgroups(): CgroupHost {
  const v1Mounts = new Map<string, string>();
  const v2Mounts: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const mountPoint = unescapeMount(pre.split(' ')[4]);
    const [fstype, , superOpts = ''] = post.split(' ');
    if (fstype === 'cgroup2') v2Mounts.push(mountPoint);
    else if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if ((V1_CONTROLLERS as readonly string[]).includes(opt) && !v1Mounts.has(opt)) v1Mounts.set(opt, mountPoint);
      }
    }
  }
  const selfCg = readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean);
  for (const root of v2Mounts) {
    let controllers: string[] = [];
    try {
      controllers = readFileSync(join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      continue;
    }
    if (controllers.includes('memory') || controllers.includes('pids') || controllers.includes('cpu')) {
      const own = selfCg.find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
      return { version: 2, v1Mounts: new Map(), v2Root: root, v2Controllers: controllers, ownPath: own };
    }
  }
  if (v1Mounts.size === 0) {
    throw new LxzoneError('no cgroup controllers are available (no cgroup v1 controller mounts and no cgroup2 mount with controllers)', {
      code: 'ENOTSUP',
    });
  }
  const mem = selfCg.map((l) => l.split(':')).find((f) => f[1]?.split(',').includes('memory'));
  return { version: 1, v1Mounts, v2Controllers: [], ownPath: mem?.[2] ?? '/' };
}

/** lxzone's own top-level subtree on cgroup v2: zones are its leaves. */
export const V2_ZONES_PARENT = '/lxzone';

/**
 * Where zone cgroups go, for one-shot and daemon zones alike:
 * - LXZONE_CGROUP_PARENT when set (a relative cgroup path, e.g. /lxzone);
 * - cgroup v2: /lxzone, a subtree of lxzone's own at the top of the hierarchy. On v2 a process lives in a
 *   leaf ("no internal processes"): a cgroup holding the caller (a systemd service or session scope) can
 *   never enable controllers for children, so nesting under the caller fails with EBUSY on every systemd
 *   host. The root is exempt from that rule and systemd enables the controllers there, so /lxzone can
 *   enable memory, cpu, pids and cpuset for its zones whatever started lxzone (docker's cgroupfs driver
 *   does the same with /docker). The daemon itself moves into the leaf <parent>/_daemon (daemon-leaf.ts);
 *   its unit declares Delegate=yes (packaging/systemd/lxzone.service);
 * - cgroup v1: "lxzone" under this process's own cgroup (v1 has no such rule), so zones are accounted
 *   inside whatever slice/container runs lxzone, with the same relative path in every controller
 *   (LXCFS resolves a reader's cgroup per controller and needs them to agree).
 */
export function defaultParent(host: CgroupHost, env: NodeJS.ProcessEnv = process.env): string {
  if (env.LXZONE_CGROUP_PARENT) return env.LXZONE_CGROUP_PARENT;
  return host.version === 2 ? V2_ZONES_PARENT : join(host.ownPath, 'lxzone');
}
