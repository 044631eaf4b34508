// State files are replaced atomically: a writer that dies or fails halfway
// leaves the previous file whole, and a reader never sees half of a new one.
// Nothing here needs root: a child writer is killed (SIGKILL) right after
// the first 4 KiB of its temp file reached the disk, another runs under
// RLIMIT_FSIZE so its write fails with EFBIG (node ignores SIGXFSZ), and
// readers race a real writer.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEMP_MARK } from '../src/zone/state/atomic.js';
import { ZoneStore } from '../src/zone/state/store.js';
import { repoRoot } from './support/zones.js';

const dir = mkdtempSync(join(tmpdir(), 'lxzone-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ATOMIC = join(repoRoot, 'dist', 'zone', 'state', 'atomic.js');

/** writeFileAtomic of `bytes` bytes of 'n' over `file` in a child node: killed by SIGKILL after its first
 *  write(2) of 4 KiB into the temp file ('kill'), or under a 64 KiB file size limit ('efbig'). */
function childWrite(file: string, bytes: number, fault: 'kill' | 'efbig') {
  const kill = `const fs = createRequire(import.meta.url)('node:fs'); const orig = fs.writeSync;
    fs.writeSync = (fd, buf, off, len) => { orig(fd, buf, off, Math.min(len, 4096)); process.kill(process.pid, 'SIGKILL'); };
    syncBuiltinESMExports();`;
  const code = `import { createRequire, syncBuiltinESMExports } from 'node:module';
    ${fault === 'kill' ? kill : ''}
    const { writeFileAtomic } = await import(${JSON.stringify(ATOMIC)});
    try { writeFileAtomic(${JSON.stringify(file)}, 'n'.repeat(${bytes})); console.log('wrote'); }
    catch (e) { console.log('error: ' + e.message); process.exit(3); }`;
  const argv = [process.execPath, '--input-type=module', '-e', code];
  return fault === 'efbig' ? spawnSync('prlimit', ['--fsize=65536', ...argv], { encoding: 'utf8' }) : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
}

describe('writeFileAtomic() when the writer fails', () => {
  it('a writer killed after 4 KiB of its temp file leaves the previous file whole', () => {
    const f = join(dir, 'killed.json');
    writeFileSync(f, 'previous');
    const r = childWrite(f, 1 << 20, 'kill');
    expect(r.signal).toBe('SIGKILL');
    expect(readFileSync(f, 'utf8')).toBe('previous');
    // What it left is a temp file, which no reader takes for the state file.
    const left = readdirSync(dir).filter((n) => n.startsWith('.killed.json'));
    expect(left).toHaveLength(1);
    expect(left[0]).toContain(TEMP_MARK);
    rmSync(join(dir, left[0]!));
  });

  it('a write that fails (EFBIG) throws naming the file, keeps the previous one and removes its temp file', () => {
    const f = join(dir, 'efbig.json');
    writeFileSync(f, 'previous');
    const r = childWrite(f, 1 << 20, 'efbig');
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(new RegExp(`^error: cannot write ${f}.*EFBIG`));
    expect(readFileSync(f, 'utf8')).toBe('previous');
    expect(readdirSync(dir).filter((n) => n.startsWith('.efbig.json'))).toEqual([]);
  });

  it('a zone store lists no zone for a dead writer\'s temp file and loads the config it replaced', () => {
    const store = new ZoneStore({ env: { LXZONE_STATE_DIR: join(dir, 'state'), LXZONE_RUNTIME_DIR: join(dir, 'run') } });
    store.saveConfig({ name: 'web', rootfs: { type: 'host' } } as never);
    const cfg = store.paths('web').configFile;
    const r = childWrite(cfg, 1 << 20, 'kill');
    expect(r.signal).toBe('SIGKILL');
    expect(store.list()).toEqual(['web']);
    expect(store.loadConfig('web').name).toBe('web');
  });
});

describe('writeFileAtomic() and readers', () => {
  it('readers racing a writer only ever see a whole old or a whole new file', async () => {
    const f = join(dir, 'race.json');
    const size = 256 * 1024;
    writeFileSync(f, 'a'.repeat(size));
    const code = `const { writeFileAtomic } = await import(${JSON.stringify(ATOMIC)});
      for (let i = 0; i < 300; i++) writeFileAtomic(${JSON.stringify(f)}, String.fromCharCode(98 + (i % 20)).repeat(${size}), 0o600, false, false);`;
    const writer = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'ignore' });
    const done = new Promise<number | null>((res) => writer.on('exit', res));
    let reads = 0;
    let running = true;
    void done.then(() => (running = false));
    const bad: string[] = [];
    while (running || reads === 0) {
      const s = readFileSync(f, 'utf8');
      reads++;
      if (s.length !== size || s !== s[0]!.repeat(size)) bad.push(`read ${reads}: ${s.length} bytes, mixed`);
      await new Promise((r) => setImmediate(r));
    }
    expect(await done).toBe(0);
    expect(bad).toEqual([]);
    expect(reads).toBeGreaterThan(10);
  });
});
