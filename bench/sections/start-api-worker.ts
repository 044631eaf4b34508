// The process that measures section "start"'s API rows (started by
// start-api.ts, which says why they get a process of their own). It never
// forks: the shim and the posix_spawn peer are started with the addon's
// posix_spawn (clone with CLONE_VM|CLONE_VFORK, nothing copied).
import { compilePolicy } from '../../src/policy/compile.js';
import { hostAbis } from '../../src/tables/index.js';
import { startZone } from '../../src/zone/run.js';
import { timePosixSpawn } from '../lib/exec.js';
import type { ApiReply, ApiRequest } from './start-api.js';

const EVENTS = ['created', 'ready', 'started', 'exited', 'closed'];

/** One start to exit of /bin/true through startZone(), with when each phase reached JavaScript (ms from the call). */
async function apiStart(rootfs: string | undefined): Promise<{ ms: number; phases: Record<string, number> }> {
  const phases: Record<string, number> = {};
  const t0 = performance.now();
  const mark = (name: string) => { phases[name] = performance.now() - t0; };
  const zone = startZone({
    argv: ['/bin/true'], rootfs, stdio: 'pipe', network: 'loopback',
    onEvent: (ev) => EVENTS.includes(ev.type) && mark(`event ${ev.type}`),
  });
  mark('startZone() returned');
  const { exitCode } = await zone.wait();
  const ms = performance.now() - t0;
  if (exitCode !== 0) throw new Error(`zone /bin/true exited ${exitCode}`);
  return { ms, phases };
}

async function serve(req: ApiRequest): Promise<ApiReply> {
  switch (req.op) {
    case 'api': return { id: req.id, ...(await apiStart(req.rootfs)) };
    case 'posix-spawn': return { id: req.id, ms: await timePosixSpawn(req.argv) };
    case 'compile': {
      const t0 = performance.now();
      compilePolicy({ profile: 'default', abis: hostAbis() });
      return { id: req.id, ms: performance.now() - t0 };
    }
  }
}

// One request at a time, in order: the parent awaits each reply.
let queue = Promise.resolve();
process.on('message', (req: ApiRequest) => {
  queue = queue.then(async () => {
    let reply: ApiReply;
    try {
      reply = await serve(req);
    } catch (err) {
      reply = { id: req.id, ms: NaN, error: err instanceof Error ? err.message : String(err) };
    }
    process.send!(reply);
  });
});
process.on('disconnect', () => process.exit(0));
