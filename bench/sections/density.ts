// Issue 9 item 5: N zones booted at once, each running a sleeping process.
// Boot time: from the first startZone() until every zone's sleep runs (seen
// in /proc as the child of the zone's init). Memory per zone beyond the
// sleeping process, two ways:
//  - host view: the drop of MemAvailable with N zones up, minus its drop with
//    N native sleeps of the same binary, divided by N (kernel objects such as
//    namespaces, mounts, the loopback netns, seccomp filters included). The
//    host is shared, so MemAvailable drifts on its own: each drop is taken
//    against the mean of a reading before the start and one after the stop
//    (which cancels a linear drift), and rounds are repeated for a median;
//  - parts: PSS of each zone's keeper and init (user memory, shared pages
//    split among users) + the growth of unreclaimable kernel memory (slab,
//    stacks, page tables) beyond N native sleeps, per zone.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { native } from '../../src/native.js';
import { makeBusyboxRoot } from '../../test/support/zones.js';
import { DEFAULT_ID_BASE, startZone, type RunningZone } from '../../src/zone/run.js';
import { progress, sleep } from '../lib/exec.js';
import { childrenOf, commOf, kernelKiB, pssKiB, settledMemAvailable } from '../lib/memory.js';
import { checkAtMost, type SectionContext } from '../lib/section.js';
import { median, row } from '../lib/stats.js';

const SLEEP_SECONDS = '100000';
/** After a stop: network namespaces, above all, are torn down asynchronously by the kernel. */
const SETTLE_MS = 1500;

const openFds = (): number => readdirSync('/proc/self/fd').length;

async function until(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface NativeRound {
  availKiB: number;
  kernelKiB: number;
  pssKiB: number;
  bootMs: number;
}

/**
 * N native sleeps, started as the zones' keepers are (posix_spawn from the
 * addon: child_process.spawn forks this whole process for each, which at
 * N=1000 on a loaded host took minutes and measured Node's fork, not a boot).
 */
async function nativeRound(n: number, sleepBin: string): Promise<NativeRound> {
  const addon = native();
  const before = await settledMemAvailable();
  const t0 = performance.now();
  const kids: { pid: number; exited: Promise<void> }[] = [];
  const stopAll = async () => {
    for (const k of kids) addon.signalProcess(k.pid, constants.signals.SIGKILL);
    await Promise.all(kids.map((k) => k.exited));
  };
  try {
    for (let i = 0; i < n; i++) {
      let done!: () => void;
      const exited = new Promise<void>((r) => (done = r));
      kids.push({ pid: addon.spawnProcess(sleepBin, ['sleep', SLEEP_SECONDS], [-1, -1, -1], false, () => done()), exited });
    }
    await until(() => kids.every((k) => commOf(k.pid) === 'sleep'), 60_000, 'native sleeps');
    const bootMs = performance.now() - t0;
    await sleep(300);
    const after = await settledMemAvailable();
    const pss = kids.reduce((acc, k) => acc + pssKiB(k.pid), 0);
    await stopAll();
    await sleep(SETTLE_MS);
    const gone = await settledMemAvailable();
    return {
      availKiB: (before.MemAvailable! + gone.MemAvailable!) / 2 - after.MemAvailable!,
      kernelKiB: kernelKiB(after) - kernelKiB(before),
      pssKiB: pss,
      bootMs,
    };
  } finally {
    await stopAll();
  }
}

interface ZoneRound {
  availKiB: number;
  kernelKiB: number;
  keeperPssKiB: number;
  initPssKiB: number;
  sleepPssKiB: number;
  launcherRssKiB: number;
  launcherFds: number;
  bootMs: number;
  readyMs: number[];
  stopMs: number;
  failed: number;
}

/**
 * N zones at once. `idBase` set: every zone maps to that one host id range
 * (no per-zone id-range claim), to show what the claims cost at boot; then
 * only boot and stop are measured. Zones are always stopped, even when the
 * round fails half-way.
 */
async function zoneRound(n: number, root: string, idBase?: number): Promise<ZoneRound> {
  const memory = idBase === undefined;
  const rss0 = process.memoryUsage().rss;
  const fds0 = openFds();
  const before = memory ? await settledMemAvailable() : undefined;
  const t0 = performance.now();
  const zones: RunningZone[] = [];
  const sleeps: (number | undefined)[] = new Array(n).fill(undefined);
  const inits: (number | undefined)[] = new Array(n).fill(undefined);
  const readyMs: number[] = [];
  let failed = 0;
  const waits: Promise<unknown>[] = [];
  const round: ZoneRound = {
    availKiB: 0, kernelKiB: 0, keeperPssKiB: 0, initPssKiB: 0, sleepPssKiB: 0, launcherRssKiB: 0, launcherFds: 0,
    bootMs: 0, readyMs, stopMs: 0, failed: 0,
  };
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    const t1 = performance.now();
    for (const z of zones) z.kill('SIGKILL');
    await Promise.all(waits);
    round.stopMs = performance.now() - t1;
  };
  try {
    for (let i = 0; i < n; i++) {
      const z = startZone({ argv: ['/bin/sleep', SLEEP_SECONDS], rootfs: root, stdio: 'inherit', network: 'loopback', idBase });
      zones.push(z);
      z.initPid.then((p) => (inits[i] = p), () => undefined);
      waits.push(z.wait().catch(() => failed++));
    }
    await until(() => {
      for (let i = 0; i < n; i++) {
        if (sleeps[i] !== undefined || inits[i] === undefined) continue;
        const s = childrenOf(inits[i]!).find((c) => commOf(c) === 'sleep');
        if (s !== undefined) {
          sleeps[i] = s;
          readyMs.push(performance.now() - t0);
        }
      }
      return readyMs.length + failed >= n;
    }, 120_000 + n * 200, `${n} zones to boot`);
    round.bootMs = performance.now() - t0;
    round.failed = failed;
    // What N zones hold open in the launcher (control socket, listener, the
    // zone's procfs, stdio pipes): against RLIMIT_NOFILE, the first limit a
    // launcher of thousands of zones meets.
    round.launcherFds = openFds() - fds0;
    if (!memory) return round;
    await sleep(300);
    const after = await settledMemAvailable();
    const sum = (pids: (number | undefined)[]) => pids.reduce<number>((acc, p) => acc + (p ? pssKiB(p) : 0), 0);
    round.kernelKiB = kernelKiB(after) - kernelKiB(before!);
    round.keeperPssKiB = sum(zones.map((z) => z.keeperPid));
    round.initPssKiB = sum(inits);
    round.sleepPssKiB = sum(sleeps);
    round.launcherRssKiB = (process.memoryUsage().rss - rss0) / 1024;
    await stopAll();
    await sleep(SETTLE_MS);
    const gone = await settledMemAvailable();
    round.availKiB = (before!.MemAvailable! + gone.MemAvailable!) / 2 - after.MemAvailable!;
    return round;
  } finally {
    await stopAll();
  }
}

/** This process's soft RLIMIT_NOFILE, as /proc/self/limits says it. */
function nofile(): string {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return line?.split(/\s{2,}/)[1] ?? 'unknown';
}

export async function density(ctx: SectionContext): Promise<void> {
  const { opts } = ctx;
  const n = opts.density;
  const root = makeBusyboxRoot('lxzone-bench-density-');
  try {
    const natives: NativeRound[] = [];
    const zones: ZoneRound[] = [];
    const fixed: ZoneRound[] = [];
    for (let r = 0; r < opts.densityRounds; r++) {
      progress(`density: round ${r + 1}/${opts.densityRounds}: ${n} native sleeps`);
      natives.push(await nativeRound(n, join(root, 'bin', 'sleep')));
      progress(`density: round ${r + 1}/${opts.densityRounds}: ${n} zones`);
      const z = await zoneRound(n, root);
      zones.push(z);
      progress(`density: round ${r + 1}/${opts.densityRounds}: ${n} zones sharing one host id range`);
      fixed.push(await zoneRound(n, root, DEFAULT_ID_BASE));
      if (z.failed) ctx.note(`round ${r + 1}: ${z.failed} of ${n} zones failed to start`);
    }
    const per = (xs: number[]) => xs.map((x) => x / n);
    const overheadAvail = zones.map((z, i) => (z.availKiB - natives[i]!.availKiB) / n);
    const kernelExtra = zones.map((z, i) => (z.kernelKiB - natives[i]!.kernelKiB) / n);
    const parts = zones.map((z, i) => (z.keeperPssKiB + z.initPssKiB) / n + kernelExtra[i]!);
    ctx.rows.push(
      row(`boot ${n} at once, all sleeping`, 'native', 'ms', natives.map((x) => x.bootMs), `${n} native sleep processes, posix_spawn'd as the keepers are`),
      row(`boot ${n} at once, all sleeping`, 'lxzone', 'ms', zones.map((z) => z.bootMs), `${n} zones, minimal root, loopback network`),
      row(`boot ${n} at once, all sleeping`, 'lxzone, one shared id range', 'ms', fixed.map((z) => z.bootMs), `the same with idBase given: no per-zone host id-range claim`),
      row('boot rate, all at once', 'lxzone', 'zones/s', zones.map((z) => (n * 1000) / z.bootMs), `${n} zones over the time the last took to boot`),
      row('one zone ready, while all boot', 'lxzone', 'ms', zones.flatMap((z) => z.readyMs), 'from the first start to this zone\'s sleep running'),
      row(`stop ${n} zones (SIGKILL, wait)`, 'lxzone', 'ms', zones.map((z) => z.stopMs)),
      row('memory per zone beyond its sleep (MemAvailable)', 'lxzone', 'KiB', overheadAvail, `(MemAvailable drop with ${n} zones - with ${n} native sleeps) / ${n}; drift-corrected`),
      row('memory per zone beyond its sleep (parts)', 'lxzone', 'KiB', parts, 'keeper PSS + init PSS + unreclaimable kernel growth beyond native'),
      row('  keeper (lxzone-shim) PSS', 'lxzone', 'KiB', per(zones.map((z) => z.keeperPssKiB))),
      row('  init (reaper) PSS', 'lxzone', 'KiB', per(zones.map((z) => z.initPssKiB))),
      row('  kernel: slab + stacks + page tables beyond native', 'lxzone', 'KiB', kernelExtra),
      row('  launcher (this node process) RSS growth', 'lxzone', 'KiB', per(zones.map((z) => z.launcherRssKiB)), 'JS objects and pipes per zone; not in the totals above'),
      row('  launcher fds per zone', 'lxzone', 'fds', per(zones.map((z) => z.launcherFds)), `RLIMIT_NOFILE here: ${nofile()}`),
      row('sleeping process PSS', 'native', 'KiB', per(natives.map((x) => x.pssKiB))),
      row('sleeping process PSS', 'lxzone', 'KiB', per(zones.map((z) => z.sleepPssKiB))),
    );
    ctx.details.zones = n;
    ctx.details.failedZones = zones.map((z) => z.failed);
    ctx.details.failedZonesSharedIdRange = fixed.map((z) => z.failed);
    ctx.details.memAvailableDropKiB = { native: natives.map((x) => x.availKiB), zones: zones.map((z) => z.availKiB) };
    ctx.checks.push(checkAtMost(`under 1 MiB per zone beyond its sleep (parts, N=${n})`, median(parts), 1024, 'KiB'));
    // MemAvailable moves with every other user of the host: when the rounds
    // disagree by more than the target itself, the figure decides nothing.
    const availCheck = checkAtMost(`same, host view (MemAvailable, N=${n})`, median(overheadAvail), 1024, 'KiB');
    const spread = Math.max(...overheadAvail) - Math.min(...overheadAvail);
    if (overheadAvail.length < 2 || spread > 1024) {
      availCheck.met = null;
      ctx.note(`MemAvailable per zone by round: ${overheadAvail.map((x) => Math.round(x)).join(', ')} KiB: ${overheadAvail.length < 2 ? 'one round only' : 'rounds disagree by more than 1 MiB'}, undecided`);
    }
    ctx.checks.push(availCheck);
    ctx.checks.push({ target: `all ${n} zones booted`, value: n - Math.max(...zones.map((z) => z.failed)), unit: 'zones', met: zones.every((z) => z.failed === 0) });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
