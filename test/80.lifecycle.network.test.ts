// Zone networking through the lifecycle (issue 7): two booted zones serve the
// same port on their own addresses and reach each other and the host; the
// addresses survive halt/boot, reboot and a daemon killed with SIGKILL; a
// running zone's caps change after the daemon was replaced; destroy gives the
// address back.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { execZone, updateZone, zoneStats } from '../src/zone/lifecycle/api.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(83);
const { ok } = env;
const PORT = 8080;
const MiB = 1024 * 1024;

const list = async () => Object.fromEntries((await env.list()).map((z) => [z.name, z]));

// Answers every connection with the zone's hostname, on [::]:PORT (both families).
const SERVER = `import socket
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("::", ${PORT})); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(socket.gethostname().encode()); c.close()`;
const fetchPy = (host: string) =>
  `import socket; c = socket.create_connection((${JSON.stringify(host)}, ${PORT}), timeout=5); print(c.recv(100).decode())`;

async function fetchFromZone(zone: string, host: string): Promise<string> {
  const r = await execZone(zone, { argv: ['/usr/bin/python3', '-c', fetchPy(host)], stdio: 'pipe' });
  return `${r.stdout!.toString().trim()}${r.exitCode ? ` (exit ${r.exitCode}: ${r.stderr!.toString().trim()})` : ''}`;
}

it('two zones serve the same port on their own addresses and keep them across halt/boot, reboot and a daemon restart', async () => {
  for (const n of ['alpha', 'beta']) await ok(['create', n, '--', '/usr/bin/python3', '-c', SERVER]);
  const ipA = (await list()).alpha!.ipv4!;
  await ok(['boot', 'alpha']);
  await ok(['boot', 'beta']);
  const z = await list();
  expect(z.alpha!.ipv4).toBe(ipA);
  const ipB = z.beta!.ipv4!;
  expect(ipB).not.toBe(ipA);
  const v6A = z.alpha!.ipv6!;

  const serving = async () => (await fetchFromZone('beta', ipA)) === 'alpha';
  await waitFor(serving, 30_000, 200);
  expect(await fetchFromZone('beta', ipA)).toBe('alpha');
  expect(await fetchFromZone('alpha', ipB)).toBe('beta');
  expect(await fetchFromZone('beta', v6A)).toBe('alpha');
  // The host reaches them on the bridge.
  expect(execFileSync('python3', ['-c', fetchPy(ipB)]).toString().trim()).toBe('beta');

  await ok(['halt', 'alpha']);
  await ok(['boot', 'alpha']);
  await ok(['reboot', 'beta']);
  const pid = env.daemonPid()!;
  process.kill(pid, 'SIGKILL');
  const after = await list();
  expect(env.daemonPid()).not.toBe(pid);
  expect([after.alpha!.state, after.alpha!.ipv4, after.alpha!.ipv6]).toEqual(['running', ipA, v6A]);
  expect([after.beta!.state, after.beta!.ipv4]).toEqual(['running', ipB]);
  await waitFor(serving, 30_000, 200);
  expect(await fetchFromZone('beta', ipA)).toBe('alpha');

  // Caps of a re-attached zone change at once (its cgroup found from the runtime record).
  await updateZone('alpha', { memoryBytes: 200 * MiB });
  expect((await zoneStats('alpha')).usage?.memory.max).toBe(200 * MiB);

  await ok(['destroy', '--force', 'alpha']);
  const store = JSON.parse(readFileSync(join(env.stateDir, 'network', `ipam-${env.bridge.name}.json`), 'utf8')) as { leases: Record<string, unknown> };
  expect(Object.keys(store.leases)).toEqual(['beta']);
});
