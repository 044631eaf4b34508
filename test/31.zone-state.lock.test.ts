import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZoneStore, processIdentity, readLockHolder } from '../src/zone/state/index.js';
import { LxzoneError } from '../src/errors.js';

let dir: string;
let store: ZoneStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lxz-31l-'));
  store = new ZoneStore({ stateDir: join(dir, 'state'), runtimeDir: join(dir, 'run') });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deadPid(): Promise<number> {
  return new Promise((r) => {
    const c = spawn('true');
    c.on('exit', () => r(c.pid as number));
  });
}

describe('zone lock', () => {
  it('is exclusive and says who holds it', async () => {
    const l = await store.lock('web', { purpose: 'boot' });
    expect(readLockHolder(l.path)?.holder).toMatchObject({ pid: process.pid, purpose: 'boot' });
    const t0 = Date.now();
    const e = await store.lock('web', { timeoutMs: 300 }).catch((x: unknown) => x);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(e).toBeInstanceOf(LxzoneError);
    expect((e as LxzoneError).message).toBe(`zone web is busy (locked by pid ${process.pid} for boot)`);
    expect((e as LxzoneError).code).toBe('EBUSY');
    // Another zone is not affected.
    (await store.lock('db', { timeoutMs: 0 })).release();
    l.release();
    l.release(); // twice is harmless
    (await store.lock('web', { timeoutMs: 0 })).release();
    expect(readdirSync(join(store.runtimeDir, 'locks'))).toEqual([]);
  });

  it('makes its directory when the runtime directory is new (after a host reboot), private', async () => {
    const { acquireLock } = await import('../src/zone/state/index.js');
    const path = join(dir, 'fresh-run', 'locks', 'web.lock');
    const l = await acquireLock(path, 'web', { purpose: 'update' });
    expect(readLockHolder(path)?.holder).toMatchObject({ pid: process.pid, purpose: 'update' });
    expect(statSync(join(dir, 'fresh-run', 'locks')).mode & 0o777).toBe(0o700);
    l.release();
    expect(existsSync(path)).toBe(false);
  });

  it('waits for a holder that lets go within the timeout', async () => {
    const l = await store.lock('web');
    setTimeout(() => l.release(), 100);
    const l2 = await store.lock('web', { timeoutMs: 5000 });
    expect(l2.holder.pid).toBe(process.pid);
    l2.release();
  });

  it('releases the lock when fn throws', async () => {
    await expect(store.withLock('web', () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await store.withLock('web', () => 7, { timeoutMs: 0 })).toBe(7);
  });

  it('breaks the lock of a dead holder, of a reused pid and an unreadable one', async () => {
    const path = store.paths('web').lockFile;
    mkdirSync(join(store.runtimeDir, 'locks'), { recursive: true });
    const me = processIdentity();
    const stale = [
      { ...me, pid: await deadPid(), acquiredAt: 'x' },
      { ...me, startTime: me.startTime + 12345, acquiredAt: 'x' }, // our pid, another process's start
      { ...me, bootId: 'another-boot', acquiredAt: 'x' },
    ];
    for (const holder of stale) {
      writeFileSync(path, JSON.stringify(holder));
      const l = await store.lock('web', { timeoutMs: 0 });
      expect(readLockHolder(path)?.holder?.startTime).toBe(me.startTime);
      l.release();
    }
    writeFileSync(path, 'not json');
    (await store.lock('web', { timeoutMs: 0 })).release();
    expect(existsSync(path)).toBe(false);
  });

  it('serialises concurrent CLIs: no update of a shared counter is lost', async () => {
    const counter = join(dir, 'counter');
    writeFileSync(counter, '0');
    const worker = join(dir, 'worker.mts');
    const src = resolve('src/zone/state/index.ts');
    writeFileSync(
      worker,
      `import { readFileSync, writeFileSync } from 'node:fs';
import { ZoneStore } from ${JSON.stringify(src)};
const store = new ZoneStore({ stateDir: process.argv[2], runtimeDir: process.argv[3] });
for (let i = 0; i < 5; i++) {
  await store.withLock('web', async () => {
    const n = Number(readFileSync(process.argv[4], 'utf8'));
    await new Promise((r) => setTimeout(r, 5));
    writeFileSync(process.argv[4], String(n + 1));
  }, { timeoutMs: 60000 });
}
`,
    );
    const runs = Array.from({ length: 4 }, () =>
      new Promise<number>((r, j) => {
        const c = spawn(process.execPath, ['--import', 'tsx', worker, store.stateDir, store.runtimeDir, counter], {
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        c.on('error', j);
        c.on('exit', (code) => r(code ?? -1));
      }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0, 0]);
    expect(readFileSync(counter, 'utf8')).toBe('20');
  });

  it('is freed when its holder is killed', async () => {
    const worker = join(dir, 'hold.mts');
    writeFileSync(
      worker,
      `import { ZoneStore } from ${JSON.stringify(resolve('src/zone/state/index.ts'))};
const store = new ZoneStore({ stateDir: process.argv[2], runtimeDir: process.argv[3] });
await store.lock('web', { purpose: 'halt' });
process.stdout.write('held\\n');
setInterval(() => {}, 1000);
`,
    );
    const c = spawn(process.execPath, ['--import', 'tsx', worker, store.stateDir, store.runtimeDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((r, j) => {
      c.stdout?.once('data', r);
      c.once('exit', (code) => j(new Error(`lock holder exited early (${code})`)));
    });
    await expect(store.lock('web', { timeoutMs: 50 })).rejects.toThrow(`zone web is busy (locked by pid ${c.pid} for halt)`);
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
    (await store.lock('web', { timeoutMs: 0 })).release();
  });
});
