// `npm run bench:oci [-- --runs N]`: `ctr run --rm` of a /bin/true container
// through containerd's stock runc shim, with lxzone-runc, runc and crun as
// its runc binary, side by side in one run (issue 17). A containerd of the
// bench's own (root, state, sockets under one temp dir) runs an image built
// here. Peers come from bench/oci-setup.sh (Debian's runc and crun); one
// that is missing, or whose first container fails, is reported as such with
// its error. Speed is reported, never asserted; the load average at start
// and end says whether the machine was busy.
// Results: bench/results/oci-runtimes.json and .md (--out DIR moves them).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { HostDirsWeMake, PrivateDaemon, run, runcWrapper } from '../test/support/private-daemon.js';
import { makeImageArchive } from '../test/support/oci-image.js';
import { commitOf } from './lib/commit.js';
import { progress, repoRoot } from './lib/exec.js';
import { describeMachine } from './lib/machine.js';
import { median } from './lib/stats.js';

const IMAGE = 'lxzone.bench/busybox:1';

interface RuntimeResult {
  runtime: string;
  binary: string | null;
  version: string | null;
  samplesMs: number[];
  medianMs: number | null;
  minMs: number | null;
  maxMs: number | null;
  /** Why it has no figures: not installed, or its first container failed (the error). */
  skipped?: string;
}

function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`]).toString().trim() || null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, out: { type: 'string', default: join(repoRoot, 'bench', 'results') } } });
  const runs = Number(values.runs);
  if (process.getuid?.() !== 0) throw new Error('bench:oci needs root (containerd, zones)');
  for (const t of ['containerd', 'ctr', 'containerd-shim-runc-v2']) if (!which(t)) throw new Error(`${t} is missing: bash bench/oci-setup.sh`);

  const work = mkdtempSync('/tmp/lxzbench-oci-');
  const hostDirs = new HostDirsWeMake(['/run/containerd', '/run/containerd/s']);
  const daemon = new PrivateDaemon('containerd', join(work, 'containerd.log'));
  const sock = join(work, 'c.sock');
  const ctr = (args: string[]) => run('ctr', ['--address', sock, ...args], { timeoutMs: 120_000 });
  const loadStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const results: RuntimeResult[] = [];
  try {
    mkdirSync(join(work, 'fifo'));
    writeFileSync(
      join(work, 'config.toml'),
      `version = 2\nroot = "${work}/root"\nstate = "${work}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt"]\n[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${work}/c.ttrpc.sock"\n[metrics]\n  address = ""\n`,
    );
    daemon.start('containerd', ['--config', join(work, 'config.toml')]);
    await daemon.waitReady(async () => (await ctr(['version'])).code === 0);
    const imported = await ctr(['image', 'import', makeImageArchive(work, IMAGE)]);
    if (imported.code !== 0) throw new Error(`ctr image import: ${imported.stderr}`);

    const peers: [string, string | null][] = [
      ['lxzone-runc', runcWrapper(work)],
      ['runc', which('runc')],
      ['crun', which('crun')],
    ];
    for (const [name, binary] of peers) {
      const res: RuntimeResult = { runtime: name, binary, version: null, samplesMs: [], medianMs: null, minMs: null, maxMs: null };
      results.push(res);
      if (!binary) {
        res.skipped = `${name} is not installed (bash bench/oci-setup.sh)`;
        progress(`${name}: ${res.skipped}`);
        continue;
      }
      const v = await run(binary, ['--version']);
      res.version = v.stdout.split('\n')[0]?.trim() || null;
      const root = join(work, `root-${name}`);
      const once = async (i: number): Promise<number> => {
        const t0 = performance.now();
        const r = await ctr(['run', '--rm', '--fifo-dir', join(work, 'fifo'), '--runc-binary', binary, '--runc-root', root, IMAGE, `b-${name}-${i}`, '/bin/true']);
        const ms = performance.now() - t0;
        if (r.code !== 0) throw new Error((r.stderr || r.stdout).trim().split('\n').slice(-2).join(' '));
        return ms;
      };
      try {
        await once(0); // warm-up: the image's snapshot, the binary's pages
      } catch (err) {
        res.skipped = `its first container failed: ${(err as Error).message}`;
        progress(`${name}: ${res.skipped}`);
        continue;
      }
      for (let i = 1; i <= runs; i++) res.samplesMs.push(await once(i));
      res.medianMs = median(res.samplesMs);
      res.minMs = Math.min(...res.samplesMs);
      res.maxMs = Math.max(...res.samplesMs);
      progress(`${name}: median ${res.medianMs?.toFixed(0)} ms over ${runs}`);
    }
  } finally {
    await daemon.stop();
    rmSync(work, { recursive: true, force: true });
    hostDirs.cleanup();
  }
  const loadEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  const machine = describeMachine();
  const loaded = Math.max(loadStart[0]!, loadEnd[0]!) > machine.cores * 0.5;
  const out = { date: new Date().toISOString(), commit: commitOf(), runs, machine, loadAverageAtStart: loadStart, loadAverageAtEnd: loadEnd, loaded, results };
  const fmt = (x: number | null): string => (x === null ? '—' : x.toFixed(0));
  const md = [
    `\`ctr run --rm\` of a /bin/true container (containerd ${execFileSync('containerd', ['--version']).toString().split(' ')[2] ?? '?'}, runc shim v2), ${runs} runs each, ms:`,
    '',
    '| runtime | version | median | min | max | note |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.runtime} | ${r.version ?? '—'} | ${fmt(r.medianMs)} | ${fmt(r.minMs)} | ${fmt(r.maxMs)} | ${r.skipped ?? ''} |`),
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, kernel ${machine.kernel}; load average ${loadStart.join(' ')} at start, ${loadEnd.join(' ')} at end${loaded ? ' (**loaded**: other work ran meanwhile)' : ''}; commit ${out.commit}.`,
    '',
  ].join('\n');
  mkdirSync(values.out!, { recursive: true });
  writeFileSync(join(values.out!, 'oci-runtimes.json'), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(join(values.out!, 'oci-runtimes.md'), md);
  process.stdout.write(md);
}

main().catch((err: Error) => {
  process.stderr.write(`bench:oci: ${err.message}\n`);
  process.exit(1);
});
