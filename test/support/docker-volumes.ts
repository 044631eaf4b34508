// Helpers of the docker volume tests (89.docker.volumes*): what the
// installation holds of its volumes, through the real docker client and on
// the host.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DockerClient } from './docker.js';
import type { LifecycleEnv } from './lifecycle-env.js';

export function volumeHelpers(env: LifecycleEnv, docker: DockerClient) {
  return {
    /** Where the installation keeps its volumes. */
    volumesDir: () => join(env.stateDir, 'volumes'),
    /** The volumes `docker volume ls` names, sorted. */
    volumeNames: async () => (await docker.ok(['volume', 'ls', '--format', '{{.Name}}'])).split('\n').filter(Boolean).sort(),
    /** Mounts of the host that name this test's state directory (a volume must never be mounted on the host). */
    hostMounts: () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(env.stateDir)),
  };
}
