// The installed CLI (bin/lxzone.js) runs the bundle the build makes
// (dist/cli-bundle/, scripts/build-cli.mjs): one file per verb. The other CLI
// tests run the CLI from source; these run what a user runs, so a bundle that
// lost a module, a path its code finds from its own location (the addon, the
// rules, the precompiled policies) or the verb it was made for fails here.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/errors.js';
import { VERBS } from '../src/cli/verbs.js';
import { makeImageArchive } from './support/oci-image.js';
import { repoRoot, type CliResult, checkNothingLeftAroundEach } from './support/zones.js';

const bundleDir = join(repoRoot, 'dist', 'cli-bundle');

function installed(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // cwd /: the zone's own /tmp hides a checkout under the host's /tmp, and nothing here needs the cwd.
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'lxzone.js'), ...args], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The files Node's CommonJS loader read for this call (NODE_DEBUG=module names each). */
const loadedBundles = (stderr: string): string[] =>
  [...new Set([...stderr.matchAll(/cli-bundle\/([a-z-]+\.cjs)/g)].map((m) => m[1]!))].sort();

checkNothingLeftAroundEach();

describe('bin/lxzone.js (the bundled CLI)', () => {
  it('the build made a bundle for every verb and maps each verb and alias to it', () => {
    const map = JSON.parse(readFileSync(join(bundleDir, 'verbs.json'), 'utf8')) as Record<string, string>;
    for (const v of VERBS) {
      for (const name of [v.name, ...(v.aliases ?? [])]) expect(map[name], name).toBe(`${v.name}.cjs`);
      expect(existsSync(join(bundleDir, `${v.name}.cjs`)), v.name).toBe(true);
    }
    expect(existsSync(join(bundleDir, 'all.cjs'))).toBe(true);
  });

  it('run: loads the run bundle alone, runs the zone and returns its exit status', async () => {
    const r = await installed(['run', '--', '/bin/sh', '-c', 'uname -n; echo out; echo err >&2; exit 3'], { NODE_DEBUG: 'module' });
    expect(r.stdout).toBe('lxzone\nout\n');
    expect(r.stderr).toContain('err\n');
    expect(r.code).toBe(3);
    expect(loadedBundles(r.stderr)).toEqual(['run.cjs']);
  });

  it('run: an emulated (notified) call is answered, so the addon and the policy were found', async () => {
    const r = await installed(['run', '--kernel-version', '5.15.0', '--', '/bin/uname', '-r']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('5.15.0\n');
    expect(r.code).toBe(0);
  });

  it('list --json and its alias ls load the list bundle', async () => {
    // list asks the daemon, starting one: a daemon of this test's own directories, stopped after.
    const base = mkdtempSync(join(tmpdir(), 'lxzone-cli-bundle-'));
    chmodSync(base, 0o700);
    const env = { LXZONE_STATE_DIR: join(base, 'state'), LXZONE_RUNTIME_DIR: join(base, 'run') };
    try {
      for (const verb of ['list', 'ls']) {
        const r = await installed([verb, '--json'], { ...env, NODE_DEBUG: 'module' });
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual([]);
        expect(loadedBundles(r.stderr)).toEqual(['list.cjs']);
      }
    } finally {
      const stop = await installed(['daemon', 'stop'], env);
      expect(stop.code, stop.stderr).toBe(0);
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('help and a mistyped verb get every verb (all.cjs); the typo is a usage error', async () => {
    const help = await installed(['--help'], { NODE_DEBUG: 'module' });
    expect(help.code).toBe(0);
    for (const v of VERBS) expect(help.stdout).toContain(v.name);
    expect(loadedBundles(help.stderr)).toEqual(['all.cjs']);
    const typo = await installed(['lsit']);
    expect(typo.code).toBe(EXIT.usage);
    expect(typo.stderr).toContain("unknown command 'lsit'");
  });

  it('image import and run --image: tar, bundled to load at first use, unpacks the archive and its layer', async () => {
    // tar (and fzstd, cli-progress) run when first used, not when a bundle loads (scripts/build-cli.mjs lazyLibs):
    // a stand-in that lost an export fails here. A store of this test's own.
    const base = mkdtempSync(join(tmpdir(), 'lxzone-cli-bundle-img-'));
    chmodSync(base, 0o700);
    const env = { LXZONE_STATE_DIR: join(base, 'state'), LXZONE_RUNTIME_DIR: join(base, 'run') };
    try {
      const archive = makeImageArchive(base, 'lxzone.test/bundle:1');
      const imported = await installed(['image', 'import', archive], env);
      expect(imported.code, imported.stderr).toBe(0);
      const r = await installed(['run', '--image', 'lxzone.test/bundle:1', '--', '/bin/busybox', 'echo', 'from the image'], env);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('from the image\n');
      expect(r.code).toBe(0);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }, 90_000);

  it("lxzone's own failure in run is 125 with one line, no stack trace", async () => {
    const r = await installed(['run', '--rootfs', '/nonexistent-root', '--', '/bin/true']);
    expect(r.code).toBe(EXIT.zoneFailure);
    expect(r.stderr).toMatch(/^lxzone: .*nonexistent-root/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});

// bin/code-cache.js: V8's code cache beside each bundle (issue 18). The
// syscalls verb's bundle, which no other test here loads, so runs in
// parallel do not race on its cache.
describe('bin/lxzone.js code cache', () => {
  const cache = join(bundleDir, 'syscalls.cjs.v8cache');
  const said = (stderr: string) => /syscalls\.cjs" with code cache (used|to be written)/.exec(stderr)?.[1];
  const syscalls = async () => {
    const r = await installed(['syscalls'], { NODE_DEBUG: 'module' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^x86_64 syscalls/);
    return said(r.stderr);
  };

  it('is written after a call that had none, then used; a cache others may write is not trusted but replaced', async () => {
    rmSync(cache, { force: true });
    expect(await syscalls()).toBe('to be written');
    expect(statSync(cache).mode & 0o777).toBe(0o644);
    expect(await syscalls()).toBe('used');
    // Writable by others: whatever it holds could be anyone's code. Not run, rewritten.
    chmodSync(cache, 0o666);
    expect(await syscalls()).toBe('to be written');
    expect(statSync(cache).mode & 0o777).toBe(0o644);
    expect(await syscalls()).toBe('used');
  }, 60_000);
});

