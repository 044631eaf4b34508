// Bad input (issue 10, part 2): garbage on lxzone-shim's fds, hostile zone
// configs, malformed rules and profiles, hostile image tarballs. Each must be
// refused with an error naming what was wrong, and leave nothing behind: no
// process, mount, cgroup, veth, netns or state file, and no fd in the process
// that tried (test/support/leaks.ts, checked after every test).
//
// What the validators refuse field by field is tested in test/30-32; this file
// adds the end-to-end angle: through the shim as a hand-made caller would
// start it, through runZone/startZone, through the lifecycle (createZone, a
// ZoneManager's boot in this process), and what is left on the host after.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { LxzoneError } from '../src/errors.js';
import { native } from '../src/native.js';
import type { ZoneEvent } from '../src/zone/events.js';
import { compilePolicy } from '../src/policy/compile.js';
import { utsServerFilter } from '../src/policy/uts-server-filter.js';
import { hostAbis } from '../src/tables/index.js';
import { runZone, startZone, type RunOptions } from '../src/zone/run.js';
import { encodeShimConfig } from '../src/zone/shim-config.js';
import { supervisor } from '../src/zone/supervisor.js';
import { ImageStore } from '../src/zone/image/store/images.js';
import { leakCheckedLifecycle } from './support/leak-checked.js';
import { waitFor } from './support/lifecycle-env.js';
import { makeTar } from './support/handmade-tar.js';
import { makeBusyboxRoot, repoRoot } from './support/zones.js';
import { describeUnless, rootOnly } from './support/skip.js';

const isRoot = process.getuid?.() === 0;
const SHIM = join(repoRoot, 'build', 'Release', 'lxzone-shim');
// Sets LXZONE_STATE_DIR etc. in this process (a test file runs in its own worker).
const { env, work, lifecycle, manager } = await leakCheckedLifecycle(71, { timeoutMs: 8000, checkAfterEachTest: true });

// ---- lxzone-shim by hand -----------------------------------------------------

/** A small deterministic PRNG (xorshift32): a failing input can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
function randomBytesFrom(next: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = next() & 0xff;
  return b;
}

function goodConfig(argv = ['/bin/true']): Buffer {
  return encodeShimConfig({
    argv,
    env: ['PATH=/bin:/usr/bin'],
    hostname: 'byhand',
    cwd: '/',
    idBase: 100000,
    idCount: 65536,
    uid: 0,
    gid: 0,
    init: true,
    hold: false,
    dieWithParent: true,
    network: 'loopback',
    binds: [],
    procBinds: [],
    // As every new zone's config has it (planZone): without it the keeper
    // makes no hostname server and says so on stderr.
    utsServerFilter: utsServerFilter(),
  });
}
const goodFilter = (): Buffer => compilePolicy({ profile: 'default', abis: hostAbis() }).bpf;

/** One BPF instruction: u16 code, u8 jt, u8 jf, u32 k. */
function insn(code: number, k: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(code, 0);
  b.writeUInt32LE(k >>> 0, 4);
  return b;
}
const BPF_RET_K = 0x06;
const SECCOMP_RET_KILL_PROCESS = 0x80000000;

type ControlKind = 'seqpacket' | 'pipe' | 'stream' | 'file' | 'none';

interface ShimRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** What the supervisor got over the control socket (seqpacket only). */
  events: ZoneEvent[];
}

let fileSeq = 0;
function contentFd(content: Buffer): number {
  const p = join(work, `fd-${fileSeq++}`);
  writeFileSync(p, content);
  const fd = openSync(p, 'r');
  rmSync(p);
  return fd;
}

/**
 * Starts lxzone-shim the way any caller could: argv of our choosing, fds 3
 * (config) and 4 (filter) holding the given bytes, fd 5 the control channel of
 * the given kind. The seqpacket kind is served by this process's supervisor,
 * so the shim's own report of a failure is seen as the launcher sees it.
 */
async function shimByHand(o: { args?: string[]; config?: Buffer; filter?: Buffer; control?: ControlKind; timeoutMs?: number }): Promise<ShimRun> {
  const addon = native();
  const owned: number[] = [];
  const fd3 = o.config !== undefined ? contentFd(o.config) : 'ignore';
  const fd4 = o.filter !== undefined ? contentFd(o.filter) : 'ignore';
  if (typeof fd3 === 'number') owned.push(fd3);
  if (typeof fd4 === 'number') owned.push(fd4);
  const events: ZoneEvent[] = [];
  let zone: number | undefined;
  let closed: Promise<void> = Promise.resolve();
  let fd5: number | 'pipe' | 'ignore' = 'ignore';
  const kind = o.control ?? 'seqpacket';
  if (kind === 'seqpacket') {
    const [ours, theirs] = addon.socketPair();
    owned.push(theirs);
    fd5 = theirs;
    let done!: () => void;
    closed = new Promise((r) => (done = r));
    zone = supervisor().attach(ours, { dispatch: compilePolicy({ profile: 'default', abis: hostAbis() }).dispatch, hostname: 'byhand' }, (ev) => {
      events.push(ev);
      if (ev.type === 'closed') done();
    });
  } else if (kind === 'pipe') {
    // A FIFO opened read-write is a pipe that never blocks its opener.
    const fifo = join(work, `fifo-${fileSeq++}`);
    execFileSync('mkfifo', [fifo]);
    fd5 = openSync(fifo, 'r+');
    rmSync(fifo);
    owned.push(fd5);
  } else if (kind === 'stream') {
    fd5 = 'pipe'; // node's extra 'pipe' fds are SOCK_STREAM unix sockets
  } else if (kind === 'file') {
    fd5 = openSync('/dev/null', 'r');
    owned.push(fd5);
  }
  const args = o.args ?? ['--config-fd', '3', '--seccomp-fd', '4', '--control-fd', '5'];
  const child = spawn(SHIM, args, { stdio: ['ignore', 'ignore', 'pipe', fd3, fd4, fd5] });
  for (const fd of owned) closeSync(fd);
  if (kind === 'stream') ((child.stdio as unknown[])[5] as NodeJS.ReadWriteStream).on('error', () => undefined);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 15_000);
  // Our end of a 'stream' control socket stays open until we close it: 'close' waits for every stdio stream.
  child.on('exit', () => ((child.stdio as unknown[])[5] as { destroy?: () => void } | null)?.destroy?.());
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.on('close', (c, s) => res([c, s])));
  clearTimeout(timer);
  if (zone !== undefined) {
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
    supervisor().detach(zone);
  }
  return { code, signal, stderr: stderr.trim(), events };
}

/**
 * The shim refused: exit 125 and the reason on stderr; once it has a control
 * socket to report on (`reported`), the supervisor gets the same reason.
 */
function expectRefused(r: ShimRun, reason: RegExp, reported = true): void {
  expect(r.signal).toBeNull();
  expect(r.code).toBe(125);
  expect(r.stderr).toMatch(/^lxzone-shim: /);
  expect(r.stderr).toMatch(reason);
  const failed = r.events.filter((e): e is Extract<ZoneEvent, { type: 'setup-failed' }> => e.type === 'setup-failed');
  expect(failed).toHaveLength(reported ? 1 : 0);
  if (reported) expect(r.stderr).toContain(failed[0]!.step!);
}

describeUnless(rootOnly(), 'lxzone-shim started by hand with garbage on its fds', () => {
  it('runs a good config (the harness works) and reports the zone to the supervisor', async () => {
    const r = await shimByHand({ config: goodConfig(), filter: goodFilter() });
    expect(r).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(r.events.map((e) => e.type)).toEqual(expect.arrayContaining(['created', 'ready', 'started', 'exited', 'closed']));
  });

  it('refuses random bytes as its config, naming the record that is wrong', async () => {
    const next = rng(0x71c0ffee);
    for (let i = 0; i < 24; i++) {
      const size = 1 + (next() % 2048);
      let config = randomBytesFrom(next, size);
      // A third raw, a third NUL-terminated, a third random "key=value" records: every parser branch.
      if (i % 3 === 1) config = Buffer.concat([config, Buffer.from([0])]);
      if (i % 3 === 2) {
        const recs = ['version=1', `${randomBytesFrom(next, 6).toString('hex')}=${randomBytesFrom(next, 4).toString('hex')}`];
        config = Buffer.from(recs.map((x) => `${x}\0`).join(''));
      }
      const r = await shimByHand({ config, filter: goodFilter() });
      expectRefused(r, /config (does not end with a NUL-terminated record|record \d+ \(.*\): |is empty|has no)/s);
    }
  });

  it('refuses a truncated config: cut inside a record, or before its command', async () => {
    const good = goodConfig();
    expectRefused(await shimByHand({ config: good.subarray(0, good.length - 3), filter: goodFilter() }), /config does not end with a NUL-terminated record/);
    expectRefused(await shimByHand({ config: Buffer.from('version=1\0'), filter: goodFilter() }), /config has no arg records \(nothing to run\)/);
    expectRefused(await shimByHand({ config: Buffer.alloc(0), filter: goodFilter() }), /config is empty/);
    // No version record first: a config from some other protocol is not guessed at.
    expectRefused(await shimByHand({ config: good.subarray(good.indexOf(0) + 1), filter: goodFilter() }), /config record 1 \(arg\): the first record must be version=1/);
  });

  it('refuses unknown keys and bad values, naming the key and the record number', async () => {
    const good = goodConfig();
    expectRefused(await shimByHand({ config: Buffer.concat([good, Buffer.from('frobnicate=1\0')]), filter: goodFilter() }), /config record \d+ \(frobnicate\): unknown key/);
    for (const [rec, why] of [
      ['cwd=relative', /\(cwd\): not an absolute path without '\.\.'/],
      ['bind=/etc\x1f/../x\x1fro', /\(bind\): not SOURCE<US>TARGET<US>ro\|rw/],
      ['hostname=' + 'h'.repeat(65), /\(hostname\): must be 1\.\.64 bytes/],
      ['id-count=0', /\(id-count\): not a positive number/],
      ['join-pid=1', /\(join-pid\): not a pid/],
      ['cgroup-procs=/etc/passwd', /\(cgroup-procs\): not a file under \/sys\/fs\/cgroup/],
      ['reattach-socket=/' + 's'.repeat(120), /\(reattach-socket\): not an absolute path shorter than 108 bytes/],
      ['serve-dispatch=4c585a4', /\(serve-dispatch\): not the dispatch table in lowercase hex/],
      ['serve-memory-usage-file=/etc/shadow', /\(serve-memory-usage-file\): not a file under \/sys\/fs\/cgroup/],
      ['log-file-max=0', /\(log-file-max\): not a positive number/],
      ['log-stdout=/tmp/../etc/x', /\(log-stdout\): not an absolute path without '\.\.'/],
    ] as const) {
      expectRefused(await shimByHand({ config: Buffer.concat([good, Buffer.from(`${rec}\0`)]), filter: goodFilter() }), why);
    }
    // Log files only through the keeper's relay, with a size.
    expectRefused(await shimByHand({ config: Buffer.concat([good, Buffer.from('log-stdout=/tmp/x\0')]), filter: goodFilter() }), /log files need relay-stdio=1 and log-file-max/);
    // A dispatch table the keeper cannot parse: refused before the zone exists.
    expectRefused(await shimByHand({ config: Buffer.concat([good, Buffer.from('serve-dispatch=00000000\0')]), filter: goodFilter() }), /dispatch table: bad magic/);
  });

  it('never crashes on a mutated good config: it runs it or refuses it', async () => {
    const next = rng(0x5eed71);
    const good = goodConfig();
    const outcomes = new Map<number, number>();
    for (let i = 0; i < 40; i++) {
      const config = Buffer.from(good);
      for (let k = 0; k < 1 + (i % 3); k++) config[next() % (config.length - 1)] = next() & 0xff;
      const r = await shimByHand({ config, filter: goodFilter() });
      expect(r.signal, `mutation ${i}: ${JSON.stringify(config.toString('latin1'))}`).toBeNull();
      // 0: still a valid config; 125: refused; 126/127: the mutated command cannot run.
      expect([0, 125, 126, 127], `mutation ${i}: ${r.stderr}`).toContain(r.code);
      if (r.code === 125) expect(r.stderr).toMatch(/^lxzone-shim: /);
      outcomes.set(r.code!, (outcomes.get(r.code!) ?? 0) + 1);
    }
    expect(outcomes.get(125)).toBeGreaterThan(0); // the mutations did reach the parser
  });

  it('refuses a seccomp program of a bad length, an empty one and one over 4096 instructions', async () => {
    const config = goodConfig();
    expectRefused(await shimByHand({ config, filter: goodFilter().subarray(0, 7) }), /seccomp filter length 7 is not a multiple of 8/);
    expectRefused(await shimByHand({ config, filter: Buffer.concat([goodFilter(), Buffer.alloc(3)]) }), /seccomp filter length \d+ is not a multiple of 8/);
    expectRefused(await shimByHand({ config, filter: Buffer.alloc(0) }), /seccomp filter is empty/);
    const over = Buffer.concat(Array.from({ length: 4097 }, () => insn(BPF_RET_K, 0x7fff0000)));
    expectRefused(await shimByHand({ config, filter: over }), /seccomp (fd larger than \d+ bytes|filter has more than 4096 instructions)/);
  });

  // BUG (native/shim/keeper.cc, Keeper::take_listener, since the listener is
  // taken with pidfd_getfd): when seccomp(2) refuses the program, the zone
  // process reports EINVAL on the sync socket and exits, but the keeper is
  // polling pidfd_getfd, gets ESRCH and reports "the zone process died while
  // installing its filter: No such process" -- the kernel's reason is lost.
  // On ESRCH, read the zone process's own report from the sync socket first.
  it('refuses garbage instructions of a valid length in the kernel, from inside the half-built zone', async () => {
    const next = rng(0xbadb0f);
    // 10 random instructions: the kernel's checker refuses them at seccomp(2),
    // after the zone's namespaces and mounts exist; all of it must go.
    const r = await shimByHand({ config: goodConfig(), filter: randomBytesFrom(next, 80) });
    expectRefused(r, /seccomp\(SET_MODE_FILTER\): Invalid argument/);
    expect(r.events.map((e) => e.type)).toContain('created');
  });

  it('a filter that kills every syscall ends the zone with SIGSYS before the binary runs', async () => {
    const marker = join(work, 'ran');
    const r = await shimByHand({ config: goodConfig(['/bin/sh', '-c', `touch ${marker}`]), filter: insn(BPF_RET_K, SECCOMP_RET_KILL_PROCESS) });
    // The zone's process dies (SIGSYS) at its first syscall after installing
    // the filter: the keeper reports a setup failure (125: which step saw it go
    // depends on timing, "died while installing its filter" or a reset sync
    // socket), or its status (128+SIGSYS); nothing ran.
    expect(r.signal).toBeNull();
    expect([125, 128 + 31]).toContain(r.code);
    // Under load the harness may already have seen the end and closed its side: the keeper's
    // report then fails to send, which it says (still 125, still nothing ran).
    if (r.code === 125) expect(r.stderr).toMatch(/^lxzone-shim: (.*zone process|sendmsg on control socket)/);
    expect(r.events.map((e) => e.type)).not.toContain('started');
    expect(readdirSync(work)).not.toContain('ran');
  });

  it('refuses a control fd that is a pipe, a stream socket or a file', async () => {
    for (const control of ['pipe', 'stream', 'file'] as const) {
      expectRefused(await shimByHand({ config: goodConfig(), filter: goodFilter(), control }), /the control fd is not a SEQPACKET socket/, false);
    }
  });

  it('refuses missing, unparsable and closed fds, and unknown arguments', async () => {
    const config = goodConfig();
    const filter = goodFilter();
    const usage = /usage: lxzone-shim --config-fd N --seccomp-fd N --control-fd N/;
    const cases: [string[], RegExp][] = [
      [[], /all three fds are required/],
      [['--config-fd', '3', '--seccomp-fd', '4'], /all three fds are required/],
      [['--config-fd', '3', '--seccomp-fd', '4', '--control-fd'], /fd arguments must be numbers >= 3/],
      [['--config-fd', 'three', '--seccomp-fd', '4', '--control-fd', '5'], /fd arguments must be numbers >= 3/],
      [['--config-fd', '0', '--seccomp-fd', '4', '--control-fd', '5'], /fd arguments must be numbers >= 3/],
      [['--config-fd', '3', '--seccomp-fd', '4', '--control-fd', '5x'], /fd arguments must be numbers >= 3/],
      [['--config-fd', '3', '--seccomp-fd', '4', '--control-fd', '42'], /an fd given is not open/],
      [['--config-fd', '3', '--seccomp-fd', '4', '--control-fd', '5', '--privileged'], /unknown argument: --privileged/],
    ];
    for (const [args, why] of cases) {
      const r = await shimByHand({ args, config, filter });
      expectRefused(r, why, false);
      expect(r.stderr).toMatch(usage);
    }
    // fds 3 and 4 not open at all.
    const r = await shimByHand({ config: undefined, filter: undefined });
    expectRefused(r, /an fd given is not open/, false);
  });
});

// ---- hostile zone configs --------------------------------------------------------

async function rejection(p: Promise<unknown>): Promise<LxzoneError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a refusal').toBeInstanceOf(LxzoneError);
  return e as LxzoneError;
}

describeUnless(rootOnly(), 'hostile zone configs through the lifecycle API (createZone)', () => {
  const base = (over: Record<string, unknown>) => ({ name: 'z', rootfs: { type: 'host' }, command: ['/bin/true'], network: { mode: 'loopback' }, ...over });

  it('refuses names that are paths, NULs or too long, storing nothing', async () => {
    for (const name of ['a/b', '..', '../../etc', 'a..b', 'a\0b', '/abs', 'x'.repeat(10_000), '', '.hidden', 'UPPER']) {
      const e = await rejection(lifecycle.createZone(base({ name })));
      expect(e.message, JSON.stringify(name).slice(0, 40)).toMatch(/field "name": must (match|not contain)/);
    }
    expect(env.store.list()).toEqual([]);
  });

  it('refuses binds through symlinks and missing paths, naming the field and the real path', async () => {
    const real = join(work, 'real');
    mkdirSync(real, { recursive: true });
    symlinkSync(real, join(work, 'link'));
    symlinkSync('/etc', join(work, 'etc-link'));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ binds: [{ host: join(work, 'link'), zone: '/mnt', readOnly: true }] }, /field "binds\[0\]\.host": .*\/link goes through a symlink \(it resolves to .*\/real\)/],
      [{ binds: [{ host: join(work, 'etc-link', 'shadow'), zone: '/mnt', readOnly: true }] }, /field "binds\[0\]\.host": .*etc-link\/shadow goes through a symlink \(it resolves to \/etc\/shadow\)/],
      [{ binds: [{ host: join(work, 'nope'), zone: '/mnt', readOnly: true }] }, /field "binds\[0\]\.host": .*\/nope does not exist/],
      [{ rootfs: { type: 'dir', path: join(work, 'nope') } }, /field "rootfs\.path": .*\/nope does not exist/],
      [{ rootfs: { type: 'dir', path: join(work, 'link') } }, /field "rootfs\.path": .*\/link goes through a symlink/],
      [{ rootfs: { type: 'image', path: join(work, 'nope.tar') } }, /field "rootfs\.path": .*\/nope\.tar does not exist/],
    ];
    for (const [over, why] of cases) expect((await rejection(lifecycle.createZone(base(over)))).message).toMatch(why);
    expect(env.store.list()).toEqual([]);
  });

  it('refuses a huge environment, naming the limit it broke', async () => {
    expect((await rejection(lifecycle.createZone(base({ env: { BIG: 'x'.repeat(2 << 20) } })))).message).toMatch(/field "env\.BIG": must be at most \d+ characters/);
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`V${i}`, 'x']));
    expect((await rejection(lifecycle.createZone(base({ env: many })))).message).toMatch(/field "env": must have at most 4096 entries/);
    expect((await rejection(lifecycle.createZone(base({ env: { 'A=B': 'x' } })))).message).toMatch(/field "env/);
    expect(env.store.list()).toEqual([]);
  });

  it('refuses malformed extra rules and profile paths before storing anything', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ extraRules: [{ names: ['openat'], disposition: 'teleport' }] }, /field "extraRules": .*openat.*disposition/],
      [{ extraRules: [{ names: ['nosuchcall'], disposition: 'host' }] }, /profile "default" with its extra rules: .*unknown syscall "nosuchcall"/],
      [{ extraRules: 'garbage' }, /field "extraRules": must be array/],
      [{ profile: '/etc/passwd' }, /field "profile": must be a profile name/],
      [{ profile: '../default' }, /field "profile": must be a profile name/],
    ];
    for (const [over, why] of cases) expect((await rejection(lifecycle.createZone(base(over)))).message).toMatch(why);
    expect(env.store.list()).toEqual([]);
  });

  it('boot of a zone whose working directory does not exist in it fails and undoes its cgroup, veth and record', async () => {
    await lifecycle.createZone(base({ name: 'nocwd', cwd: '/nonexistent/dir', network: { mode: 'zone' }, resources: { memoryBytes: 64 << 20 }, command: ['/bin/sleep', '30'] }));
    const e = await rejection(manager().boot('nocwd'));
    expect(e.message).toBe('cannot boot zone nocwd: zone setup failed: working directory /nonexistent/dir: No such file or directory');
    expect((await manager().info('nocwd')).state).toBe('stopped');
    expect(existsRuntime('nocwd')).toBe(false);
    await manager().destroy('nocwd');
  });

  it('boot refuses a bind source swapped for a symlink after create', async () => {
    const src = join(work, 'data');
    mkdirSync(src, { recursive: true });
    await lifecycle.createZone(base({ name: 'swapped', binds: [{ host: src, zone: '/mnt', readOnly: true }] }));
    renameSync(src, `${src}.moved`);
    symlinkSync('/etc', src);
    const e = await rejection(manager().boot('swapped'));
    expect(e.message).toMatch(/cannot boot zone swapped: .*field "binds\[0\]\.host": .*\/data goes through a symlink \(it resolves to \/etc\)/);
    await manager().destroy('swapped');
  });
});

function existsRuntime(name: string): boolean {
  return readdirSync(join(env.runtimeDir, 'zones')).some((f) => f.startsWith(`${name}.`));
}

describeUnless(rootOnly(), 'hostile options through the run API (runZone, startZone)', () => {
  const run = (o: Partial<RunOptions>) => runZone({ argv: ['/bin/true'], stdio: 'pipe', ...o });

  it('refuses a working directory that does not exist in the zone', async () => {
    const e = await rejection(run({ cwd: '/nonexistent/dir' }));
    expect(e.message).toBe('zone setup failed: working directory /nonexistent/dir: No such file or directory');
    expect(e.exitCode).toBe(125);
  });

  it('refuses bind sources through symlinks and missing paths, in the shim (openat2 RESOLVE_NO_SYMLINKS)', async () => {
    // runZone has no config validation in front of it: the shim is the last check.
    const real = join(work, 'b-real');
    mkdirSync(real, { recursive: true });
    symlinkSync(real, join(work, 'b-link'));
    const bind = (host: string, zone = '/mnt') => ({ binds: [{ host, zone, readOnly: true }] });
    expect((await rejection(run(bind(join(work, 'b-link'))))).message).toBe(`zone setup failed: bind source ${join(work, 'b-link')}: Too many levels of symbolic links`);
    expect((await rejection(run(bind(join(work, 'b-link', 'x'))))).message).toMatch(/^zone setup failed: bind source .*b-link\/x: Too many levels of symbolic links$/);
    expect((await rejection(run(bind(join(work, 'b-nope'))))).message).toBe(`zone setup failed: bind source ${join(work, 'b-nope')}: No such file or directory`);
    // The target is made if it can be; on the read-only host root it cannot.
    expect((await rejection(run(bind(real, '/nonexistent/mnt')))).message).toMatch(/^zone setup failed: (create )?mount target \/nonexistent\/mnt in the zone's root: /);
  });

  it('refuses a rootfs that does not exist or is not a directory, before starting anything', async () => {
    expect(() => startZone({ argv: ['/bin/true'], rootfs: join(work, 'nope') })).toThrow(`--rootfs ${join(work, 'nope')}: no such directory`);
    expect(() => startZone({ argv: ['/bin/true'], rootfs: '/etc/passwd' })).toThrow('--rootfs /etc/passwd: not a directory');
    expect(() => startZone({ argv: ['/bin/true'], rootfs: 'relative/root' })).toThrow('--rootfs relative/root: must be an absolute path');
  });

  // BUG (src/zone/run.ts checkOptions + native/shim/mounts.cc build_zone_filesystem):
  // the rootfs path is followed through symlinks, and in the shim it is
  // resolved after the pivot into the scratch tmpfs, so an absolute link
  // resolves against the scratch root: a link to a real directory reports
  // "No such file or directory" and a link to "/" (with rootfsWritable) binds
  // the scratch root itself, host root under /oldroot included, as the zone's
  // root (it only fails at chdir because the scratch is 0700). The rootfs
  // should be opened like a bind source (openat2 RESOLVE_NO_SYMLINKS) and
  // refused with a message naming the symlink.
  it('refuses a rootfs reached through a symlink, naming the symlink', async () => {
    const root = makeBusyboxRoot('lxz-71-root-');
    try {
      symlinkSync(root, join(work, 'root-link'));
      symlinkSync('/', join(work, 'slash-link'));
      for (const [rootfs, writable] of [[join(work, 'root-link'), false], [join(work, 'slash-link'), true]] as const) {
        const e = await rejection(run({ rootfs, rootfsWritable: writable, argv: ['/bin/true'] }));
        expect(e.message).toContain(rootfs);
        expect(e.message).toMatch(/symlink|symbolic link/);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  // Found by the config's encoding, which startZone runs while the shim
  // starts (run.ts): the shim, still waiting for its config, is killed, and
  // the leak check after each test holds the host to nothing left behind.
  it('refuses NULs in argv and env, naming the field', () => {
    expect(() => startZone({ argv: ['/bin/true', 'a\0b'] })).toThrow('zone arg contains a NUL byte');
    expect(() => startZone({ argv: ['/bin/true'], env: { 'A\0B': 'x' } })).toThrow('zone env contains a NUL byte');
  });

  // BUG (src/zone/run.ts defaultEnv/startZone): HOSTNAME=<hostname> is put in
  // the environment first, so a NUL in the hostname is reported as "zone env
  // contains a NUL byte". Check the hostname (1..64 bytes, no NUL) in
  // checkOptions and name it.
  it('refuses a NUL in the hostname, naming the hostname', () => {
    expect(() => startZone({ argv: ['/bin/true'], hostname: 'a\0b' })).toThrow(/hostname/);
  });

  it('a huge environment fails at exec with E2BIG, after which nothing is left', async () => {
    const e = await rejection(run({ env: { BIG: 'x'.repeat(3 << 20) } }));
    expect(e.message).toBe('cannot run /bin/true in the zone: E2BIG (E2BIG)');
    expect(e.exitCode).toBe(126);
  });

  it('malformed rules and profiles are refused before anything starts', () => {
    // startZone compiles the policy before it spawns the shim: a synchronous throw means no keeper pid ever existed.
    const cases: [Partial<RunOptions>, string | RegExp][] = [
      [{ extraRules: [{ names: ['openat'], disposition: 'teleport' }] as never }, /zone rules: syscalls\[0\] \(openat\)\.disposition: must match pattern/],
      [{ extraRules: [{ names: ['nosuchcall'], disposition: 'host' }] as never }, 'zone rules: syscalls[0] (nosuchcall): unknown syscall "nosuchcall"'],
      [{ extraRules: 'garbage' as never }, 'zone rules: must be an array of syscall entries'],
      [{ extraRules: [{ names: ['openat'], disposition: 'errno:ENOTANERRNO' }] as never }, 'zone rules: syscalls[0] (openat): unknown errno "ENOTANERRNO"'],
      [{ extraRules: [{ names: ['openat'], disposition: 'emulate:nosuch' }] as never }, 'zone rules: syscalls[0] (openat): unknown handler "nosuch"'],
      [{ extraRules: [{ names: ['openat'], disposition: 'host', args: [{ index: 9 }] }] as never }, /syscalls\[0\] \(openat\): must NOT have additional properties "args"/],
      [{ extraRules: [{}] as never }, "zone rules: syscalls[0]: must have required property 'names'"],
      [{ profile: '/etc/passwd' }, '/etc/passwd: not valid JSON'],
      [{ profile: join(work, 'none.json') }, `${join(work, 'none.json')}: cannot read rules file: ENOENT`],
      [{ profile: 'nosuch' }, 'unknown profile "nosuch" (profiles: default, strict, permissive, trace, or a path to a rules file)'],
    ];
    for (const [o, why] of cases) expect(() => startZone({ argv: ['/bin/true'], ...o })).toThrow(why);
  });

  // BUG (src/zone/run.ts startZone, where the config and the filter are
  // written: `(child.stdio[3]).end(config); (child.stdio[4]).end(policy.bpf)`):
  // the two sockets have no 'error' listener. When the shim refuses its config
  // it exits without reading fd 4 (or the rest of fd 3), the kernel resets the
  // connection, and Node raises ECONNRESET/EPIPE as an uncaught exception: the
  // launcher dies -- a daemon with every zone it serves. Reachable from a valid
  // zone config: a name that makes the re-attach socket path >= 108 bytes (the
  // next test). Fix: `.on('error', () => {})` on both streams (the shim's own
  // report over the control socket says what was wrong).
  it('a shim that refuses its config does not take the launcher down with it', () => {
    const script = `
      import { runZone } from ${JSON.stringify(join(repoRoot, 'src', 'zone', 'run.ts'))};
      const cases = { cwd: { cwd: 'relative' }, hostname: { hostname: 'h'.repeat(10000) }, env: { env: { BIG: 'x'.repeat(5 << 20) } } };
      for (const [k, o] of Object.entries(cases)) {
        try { await runZone({ argv: ['/bin/true'], stdio: 'pipe', ...o }); console.log(k + ': ran'); }
        catch (e) { console.log(k + ': ' + e.message); }
      }
      await new Promise((r) => setTimeout(r, 500));
      console.log('launcher alive');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/ECONNRESET|EPIPE|Unhandled 'error' event/);
    expect(r.stdout).toMatch(/cwd: zone setup failed: config record \d+ \(cwd\): not an absolute path without '\.\.'/);
    // The hostname is refused before the shim starts, naming the field.
    expect(r.stdout).toMatch(/hostname: hostname "h+": must be letters, digits, '-' and '\.' \(RFC 1123\), at most 64 bytes/);
    expect(r.stdout).toMatch(/env: zone setup failed: config fd larger than \d+ bytes/);
    expect(r.stdout).toContain('launcher alive');
    expect(r.status).toBe(0);
  });

  // BUG (src/zone/lifecycle/manager.ts bootLocked, with the run.ts bug above):
  // the re-attach socket is <runtime>/zones/<name>.sock; with a runtime
  // directory of 45+ bytes (LXZONE_RUNTIME_DIR) a valid 63-byte name makes it
  // longer than sun_path (108): the shim refuses it, the uncaught ECONNRESET
  // kills the daemon, and the caller reads "the lxzone daemon closed the
  // connection". Check the length at create/boot (or name sockets by a short
  // hash) and keep the daemon up.
  it('a valid name whose re-attach socket path would not fit sun_path: a clear error, and the daemon stays up', async () => {
    const long = join(env.base, 'r'.repeat(44));
    const store = new (await import('../src/zone/state/store.js')).ZoneStore({ stateDir: join(env.base, 'state-long'), runtimeDir: long });
    const name = 'n'.repeat(63);
    const daemonPid = (): number | undefined => {
      try {
        return (JSON.parse(readFileSync(join(long, 'daemon.lock'), 'utf8')) as { pid: number }).pid;
      } catch {
        return undefined;
      }
    };
    try {
      await lifecycle.createZone({ name, rootfs: { type: 'host' }, command: ['/bin/true'], network: { mode: 'loopback' } }, { store });
      expect(join(long, 'zones', `${name}.sock`).length).toBeGreaterThanOrEqual(108);
      const e = await lifecycle.bootZone(name, { store }).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      const first = daemonPid();
      expect(e?.message).toMatch(/socket|108|too long/);
      expect(e?.message).not.toMatch(/closed the connection/);
      expect(first).toBeDefined();
      await lifecycle.listZones({ store });
      expect(daemonPid()).toBe(first);
    } finally {
      await lifecycle.destroyZone(name, { store, force: true }).catch(() => undefined);
      await lifecycle.stopDaemon({ store, haltZones: true }).catch(() => undefined);
      const pid = daemonPid();
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      rmSync(join(env.base, 'state-long'), { recursive: true, force: true });
      rmSync(long, { recursive: true, force: true });
    }
  });
});

// ---- hostile images ------------------------------------------------------------------

describeUnless(rootOnly(), 'hostile image tarballs through createZone and boot', () => {
  const image = (name: string, tarball: Buffer | string) => {
    const p = join(work, `${name}.tar`);
    if (typeof tarball === 'string') execFileSync('tar', ['-C', tarball, '-cf', p, '.']);
    else writeFileSync(p, tarball);
    return { name, rootfs: { type: 'image', path: p }, network: { mode: 'loopback' } };
  };

  it('refuses path traversal and a truncated archive, storing nothing and writing nothing outside', async () => {
    const outside = join(work, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'secret'), 'host secret');
    const trav = await rejection(lifecycle.createZone(image('trav', makeTar([{ path: 'bin', type: 'Directory' }, { path: `../../../../../..${outside}/evil`, body: 'x' }]))));
    expect(trav.message).toMatch(/entry ".*outside\/evil": contains a '\.\.' component \(path traversal\)/);
    const through = await rejection(
      lifecycle.createZone(image('through', makeTar([{ path: 'etc', type: 'SymbolicLink', linkpath: outside }, { path: 'etc/evil', body: 'x' }]))),
    );
    expect(through.message).toMatch(/entry "etc\/evil": .*symbolic link/);
    const whole = makeTar([{ path: 'f', body: 'y'.repeat(5000) }]);
    const cut = await rejection(lifecycle.createZone(image('cut', whole.subarray(0, 1500))));
    expect(cut.message).toMatch(/cut\.tar/);
    expect(readdirSync(outside)).toEqual(['secret']);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('host secret');
    expect(env.store.list()).toEqual([]);
    expect(readdirSync(join(env.stateDir, 'zones'))).toEqual([]);
  });

  it('an image with device nodes and absolute symlinks boots with them neutralised, and leaves nothing after destroy', async () => {
    const root = makeBusyboxRoot('lxz-71-img-');
    try {
      // Device nodes outside /dev (the zone's /dev is a fresh tmpfs anyway), and links that aim at host files.
      execFileSync('mknod', [join(root, 'mem'), 'c', '1', '1']);
      execFileSync('mknod', [join(root, 'kmsg'), 'c', '1', '11']);
      execFileSync('mknod', [join(root, 'disk'), 'b', '7', '0']);
      symlinkSync('/etc/shadow', join(root, 'hostshadow'));
      symlinkSync('../../../../../../../etc', join(root, 'up'));
      const created = await lifecycle.createZone({
        ...image('devs', root),
        command: ['/bin/sh', '-c', 'for f in /mem /kmsg /disk; do [ -e $f ] && echo present $f; done; cat /hostshadow || echo no-shadow; ls /up; echo done'],
      });
      expect(created.warnings.join('\n')).toMatch(/mem/);
      expect(created.warnings.join('\n')).toMatch(/disk/);
      await manager().boot('devs');
      await waitFor(async () => (await manager().info('devs')).state === 'stopped', 15_000);
      const logs = lifecycle.logFiles(env.store, 'devs');
      const out = readFileSync(logs.stdout, 'utf8');
      expect(out).toContain('done');
      expect(out).not.toContain('present');
      expect(out).toContain('no-shadow');
      // "up" climbs to the zone's own /etc (busybox root: passwd, group, os-release), never the host's.
      expect(out).toContain('os-release');
      expect(out).not.toMatch(/^shadow$/m);
      await manager().destroy('devs');
      // The image file went into the image store (unnamed: prune takes it once no
      // zone uses it), and the zone's disk was copied from a template formatted
      // once per size: both the installation's, not the zone's. Gone, so that
      // the check after the test sees only what the zone left.
      const images = new ImageStore({ stateDir: env.stateDir, runtimeDir: env.runtimeDir });
      expect((await images.locked('test', () => images.prune())).images).toHaveLength(1);
      rmSync(join(env.stateDir, 'disk-templates'), { recursive: true, force: true });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
