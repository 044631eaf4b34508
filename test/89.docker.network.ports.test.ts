// NAT and published ports through the real docker client. An "outside"
// network namespace hangs off the host on its own veth (a stand-in uplink:
// this machine has no internet). A container reaches it through NAT and the
// outside sees the host's address; an lxzone zone does only with --nat. A
// port published with -p is reached from the host (127.0.0.1 and the uplink
// address) and from the outside; `docker port`, ps and inspect show it; a
// port taken (by another container, by a host process) is refused with
// Docker's error; stop releases it and rm leaves no nftables rule behind.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(60);
const docker = dockerClient(env);
const { ok, run } = docker;

const tag = (process.pid % 4096).toString(16);
const UPLINK = `lxo90-${tag}`;
const OUT_NET = `100.64.${process.pid % 256}`;
const OUTSIDE_HOST = `${OUT_NET}.1`;
const OUTSIDE = `${OUT_NET}.2`;
const OUT_PORT = 18090;
const procs: ChildProcess[] = [];
let outside = 0;

const inNs = (pid: number, ...cmd: string[]) => execFileSync('nsenter', ['-t', String(pid), '-n', ...cmd], { timeout: 15_000 }).toString();

/** A script that connects to host:port and prints what the server says (exit 2/3 when it cannot). */
const client = (host: string, port: number) =>
  `const c=require('net').connect(${port},${JSON.stringify(host)});let d='';c.on('data',b=>d+=b);c.on('end',()=>{process.stdout.write(d);process.exit(0)});c.on('error',()=>process.exit(2));setTimeout(()=>process.exit(3),3000);`;
/** A server answering each client with "<name> peer=<client address>". */
const server = (name: string, port: number) =>
  `require('net').createServer(c=>c.end(${JSON.stringify(name)}+' peer='+c.remoteAddress.replace('::ffff:',''))).listen(${port},'0.0.0.0',()=>console.log('ready'));`;

function fetchFromHost(host: string, port: number, pid = 0): string | null {
  const argv = [process.execPath, '-e', client(host, port)];
  const r = pid ? spawnSync('nsenter', ['-t', String(pid), '-n', ...argv], { encoding: 'utf8', timeout: 10_000 }) : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout : null;
}

const nftTables = () => execFileSync('nft', ['list', 'tables']).toString();

beforeAll(async () => {
  spawnSync('ip', ['link', 'del', UPLINK]);
  const holder = spawn('unshare', ['--net', 'sleep', '300'], { stdio: 'ignore' });
  procs.push(holder);
  const mine = execFileSync('readlink', ['/proc/self/ns/net']).toString();
  await waitFor(() => execFileSync('readlink', [`/proc/${holder.pid}/ns/net`]).toString() !== mine, 5000, 20);
  outside = holder.pid!;
  execFileSync('ip', ['link', 'add', UPLINK, 'type', 'veth', 'peer', 'name', `${UPLINK}p`]);
  execFileSync('ip', ['link', 'set', `${UPLINK}p`, 'netns', String(outside)]);
  execFileSync('ip', ['addr', 'add', `${OUTSIDE_HOST}/24`, 'dev', UPLINK]);
  execFileSync('ip', ['link', 'set', UPLINK, 'up']);
  inNs(outside, 'ip', 'addr', 'add', `${OUTSIDE}/24`, 'dev', `${UPLINK}p`);
  inNs(outside, 'ip', 'link', 'set', `${UPLINK}p`, 'up');
  const srv = spawn('nsenter', ['-t', String(outside), '-n', process.execPath, '-e', server('outside', OUT_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(srv);
  await new Promise((r) => srv.stdout!.once('data', r));
});

afterAll(() => {
  for (const p of procs.reverse()) p.kill('SIGKILL');
  spawnSync('ip', ['link', 'del', UPLINK]);
});

describe('NAT', () => {
  it('a container reaches the outside as the host; an lxzone zone only with --nat; nothing is left after rm', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    const r = await run(['run', '--rm', '--name', 'out', 'host', process.execPath, '-e', client(OUTSIDE, OUT_PORT)]);
    expect([r.code, r.stdout]).toEqual([0, `outside peer=${OUTSIDE_HOST}`]);

    const plain = await env.cli(['run', '--name', 'plain', '--', process.execPath, '-e', client(OUTSIDE, OUT_PORT)]);
    expect(plain.code).not.toBe(0);
    const natted = await env.cli(['run', '--name', 'natted', '--nat', '--', process.execPath, '-e', client(OUTSIDE, OUT_PORT)]);
    expect([natted.code, natted.stdout]).toEqual([0, `outside peer=${OUTSIDE_HOST}`]);
    expect((await env.inspect('natted')).config?.network).toEqual({ mode: 'zone', nat: true });
    for (const z of ['plain', 'natted']) await env.ok(['destroy', '--force', z]);
    await waitFor(() => env.store.list().length === 0, 15_000);
    // The bridge's NAT set is empty again.
    expect(execFileSync('nft', ['list', 'set', 'ip', `lxzone_${env.bridge.name.replace(/-/g, '_')}`, 'nat']).toString()).not.toMatch(/elements/);
  });
});

describe('published ports', () => {
  it('-p reaches a server in the container from the host and the outside; docker port, ps and inspect show it', async () => {
    await env.ok(['list']);
    const hp = 18000 + (process.pid % 1000);
    await ok(['run', '-d', '--name', 'web', '-p', `${hp}:8000`, '-p', '8001', 'host', process.execPath, '-e', `${server('web', 8000)}${server('web8001', 8001)}`]);
    await waitFor(async () => (await ok(['logs', 'web'])).includes('ready\nready'), 30_000);
    const ip = JSON.parse(await ok(['inspect', 'web']))[0].NetworkSettings.IPAddress as string;
    // From the host itself: its loopback (masqueraded to the gateway) and its uplink address.
    expect(fetchFromHost('127.0.0.1', hp)).toMatch(/^web peer=/);
    expect(fetchFromHost(OUTSIDE_HOST, hp)).toMatch(/^web peer=/);
    // From the outside: the client's own address, DNATed in.
    expect(fetchFromHost(OUTSIDE_HOST, hp, outside)).toBe(`web peer=${OUTSIDE}`);
    // The container's own address was never the way in: the outside has no route to it.
    expect(fetchFromHost(ip, 8000, outside)).toBeNull();

    const port = await ok(['port', 'web']);
    const random = Number(/8001\/tcp -> 0\.0\.0\.0:(\d+)/.exec(port)?.[1]);
    expect(port).toContain(`8000/tcp -> 0.0.0.0:${hp}`);
    expect(random).toBeGreaterThan(0);
    expect(fetchFromHost('127.0.0.1', random)).toMatch(/^web8001 peer=/);
    expect(await ok(['port', 'web', '8000'])).toBe(`0.0.0.0:${hp}`);
    expect(await ok(['ps', '--format', '{{.Ports}}'])).toContain(`0.0.0.0:${hp}->8000/tcp`);
    const c = JSON.parse(await ok(['inspect', 'web']))[0];
    expect(c.HostConfig.PortBindings['8000/tcp']).toEqual([{ HostIp: '', HostPort: String(hp) }]);

    // Taken: by another container (Docker's "already allocated"), by a host process.
    const dup = await run(['run', '-d', '--name', 'dup', '-p', `${hp}:80`, 'host', 'sleep', '60']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(new RegExp(`Bind for 0.0.0.0:${hp} failed: port is already allocated`));
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(hp + 1, '127.0.0.1', () => r()));
    try {
      const taken = await run(['run', '-d', '--name', 'dup2', '-p', `${hp + 1}:80`, 'host', 'sleep', '60']);
      expect(taken.code).not.toBe(0);
      expect(taken.stderr).toMatch(/port is already in use on the host/);
    } finally {
      busy.close();
    }
    await ok(['rm', '-f', 'dup', 'dup2']);

    // Stop releases the ports (and the rules); start publishes them again, the random one too.
    await ok(['stop', '-t', '1', 'web']);
    expect(fetchFromHost('127.0.0.1', hp)).toBeNull();
    expect(nftTables()).not.toMatch(/lxzpub_/);
    expect(await ok(['port', 'web'])).toBe('');
    await ok(['start', 'web']);
    await waitFor(() => fetchFromHost('127.0.0.1', random)?.startsWith('web8001') ?? false, 30_000);
    await ok(['rm', '-f', 'web']);
    expect(nftTables()).not.toMatch(/lxzpub_/);
    expect(env.store.list()).toEqual([]);
  });
});
