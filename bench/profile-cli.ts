// Where a CLI start's time goes: runs the installed CLI (bin/lxzone.js) under
// V8's sampling profiler several times and sorts every sample into one of a
// few phases (module loading, flag parsing, policy, id claim, shim spawn,
// daemon round trips, waiting for the zone, ...), by the deepest frame of its
// stack that names one. A sample belongs to a phase's inclusive time, so the
// phases add up to the profile's total.
//
//   npx tsx bench/profile-cli.ts [--runs N] [--out FILE.md] -- run -- /bin/true
//   npx tsx bench/profile-cli.ts -- list
//
// The profiler samples the main thread on a timer: on a loaded machine a
// sample also counts time the process waited for a CPU, so compare phases
// within one run of this script, not absolute figures across machines.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './lib/exec.js';
import { median } from './lib/stats.js';

interface CallFrame { functionName: string; url: string }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Phases, most specific first: a frame is tested against each in turn. */
const PHASES: Array<[string, (f: CallFrame) => boolean]> = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['waiting (zone running, I/O, timers)', (f) => f.functionName === '(idle)'],
  // Our side of a call to the daemon; its answer is awaited, which is waiting.
  ['daemon calls (our side)', (f) => /^(daemonCall|tryConnect|assertPeerIsUs|spawnDaemon|DaemonClient\..*)$/.test(f.functionName)],
  ['shim spawn (fork+exec)', (f) => f.functionName === 'spawn' || f.functionName === 'ChildProcess.spawn' || f.functionName === 'spawnSync'],
  ['native addon (load, supervisor)', (f) => /^(native|ZoneSupervisor|supervisor)$/.test(f.functionName)],
  ['schema validation (ajv)', (f) => /node_modules\/ajv|lazySchema|newAjv/.test(f.url + f.functionName)],
  ['policy (cache key, read, compile)', (f) => /^(compilePolicy|compiledPolicy|policyKey|readCached|inputsHash)$/.test(f.functionName)],
  ['host id range claim', (f) => /^(chooseIds|claimTransientIdRange|lxzoneDelegation|assertZoneRangeDelegated)$/.test(f.functionName)],
  ['flag parsing and help (commander)', (f) => /commander/.test(f.url) && f.functionName !== ''],
  // bin/code-cache.js reads a bundle and compiles it with its code cache (in place of Node's own loader).
  ['module loading (resolve, read, compile)', (f) => /node:internal\/modules\//.test(f.url) || f.functionName === 'wrapSafe' || /\/bin\/code-cache\.js$/.test(f.url)],
  ['Node built-in modules', (f) => /^(compileForInternalLoader|requireBuiltin)$/.test(f.functionName)],
  ['Node start-up (before the entry runs)', (f) => /node:internal\/(main|bootstrap|process\/pre_execution)/.test(f.url)],
];
const OTHER = 'other lxzone code';
const NATIVE = 'native code outside JS ((program))';

function phasesOf(p: Profile): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    let phase: string | undefined;
    for (let id: number | undefined = p.samples[i]; id !== undefined && phase === undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (f.functionName === '(program)') phase = NATIVE;
      else phase = PHASES.find(([, match]) => match(f))?.[0];
    }
    phase ??= OTHER;
    out.set(phase, (out.get(phase) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  }
  return out;
}

function args(): { runs: number; out?: string; cli: string[] } {
  const a = process.argv.slice(2);
  const dash = a.indexOf('--');
  const own = dash < 0 ? a : a.slice(0, dash);
  const cli = dash < 0 ? ['run', '--', '/bin/true'] : a.slice(dash + 1);
  const get = (name: string) => {
    const i = own.indexOf(name);
    return i < 0 ? undefined : own[i + 1];
  };
  return { runs: Number(get('--runs') ?? 9), out: get('--out'), cli };
}

function main(): void {
  const { runs, out, cli } = args();
  const dir = mkdtempSync(join(tmpdir(), 'lxzone-cli-profile-'));
  const perRun: Array<Map<string, number>> = [];
  const totals: number[] = [];
  try {
    for (let r = 0; r < runs + 1; r++) {
      const runDir = join(dir, String(r));
      const res = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', runDir, join(repoRoot, 'bin', 'lxzone.js'), ...cli], { cwd: '/', encoding: 'utf8' });
      if (res.status !== 0 && r === 0) process.stderr.write(`profile-cli: lxzone ${cli.join(' ')} exited ${res.status}: ${res.stderr}`);
      if (r === 0) continue; // warm-up: page cache, the kernel's dentries
      const file = readdirSync(runDir).find((n) => n.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no profile written for run ${r}`);
      const phases = phasesOf(JSON.parse(readFileSync(join(runDir, file), 'utf8')) as Profile);
      perRun.push(phases);
      totals.push([...phases.values()].reduce((s, v) => s + v, 0));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const names = [...new Set(perRun.flatMap((m) => [...m.keys()]))];
  const rows = names
    .map((name) => ({ name, ms: median(perRun.map((m) => m.get(name) ?? 0)) ?? 0 }))
    .sort((a, b) => b.ms - a.ms);
  const total = median(totals) ?? 0;
  const lines = [
    `CLI start profile: \`lxzone ${cli.join(' ')}\`, ${runs} runs (after one warm-up), V8 sampling profiler at 100 µs; the median of each phase over the runs (medians need not add up to the median total).`,
    '',
    '| phase | median ms | share |',
    '|---|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.ms.toFixed(1)} | ${((100 * r.ms) / total).toFixed(0)}% |`),
    `| **profile total** (main thread, process start to exit) | ${total.toFixed(1)} | |`,
    '',
  ];
  const text = lines.join('\n');
  process.stdout.write(text);
  if (out) writeFileSync(out, text);
}

main();
