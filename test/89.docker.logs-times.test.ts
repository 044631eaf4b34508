// docker logs -t, --since and --until through the real docker client: each
// line's time is the one its zone's keeper recorded when it took the line
// from the zone (<file>.idx beside the log), not the time of the read: two
// lines written seconds apart keep their times across reads, a restart of
// the container (a new keeper) and a follow; a time that is not one is a 400.
import { describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(58);
const docker = dockerClient(env);
const { ok, run } = docker;

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{9}))Z (.*)$/;

/** `docker logs -t` of a container as [time in ns, text] per line (stdout and stderr together). */
async function stamped(name: string, extra: string[] = []): Promise<[bigint, string][]> {
  const r = await run(['logs', '-t', ...extra, name]);
  if (r.code !== 0) throw new Error(`docker logs exited ${r.code}: ${r.stderr}`);
  return (r.stdout + r.stderr).split('\n').filter(Boolean).map((l) => {
    const m = STAMP.exec(l);
    if (!m) throw new Error(`not a stamped line: ${JSON.stringify(l)}`);
    const ns = BigInt(Date.parse(`${m[1]!.slice(0, 19)}Z`)) * 1_000_000n + BigInt(m[2]!);
    return [ns, m[3]!];
  });
}

/** Docker's unix time query value for ns. */
const unix = (ns: bigint) => `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;

describe('docker logs -t, --since, --until', () => {
  it('shows the times the lines were written, and selects lines by them', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    const t0 = BigInt(Date.now()) * 1_000_000n;
    await ok(['run', '-d', '--name', 'lt', 'host', '/bin/sh', '-c', 'echo one; sleep 3; echo two; echo err >&2; exec sleep 600']);
    expect(await waitFor(async () => (await run(['logs', 'lt'])).stderr.includes('err'), 60_000, 200)).toBe(true);
    // Read twice, a second apart: the same times (recorded, not taken at the read).
    const first = await stamped('lt');
    await new Promise((r) => setTimeout(r, 1000));
    const lines = await stamped('lt');
    expect(lines).toEqual(first);
    const at = (text: string) => lines.find(([, l]) => l === text)![0];
    const [one, two, err] = [at('one'), at('two'), at('err')];
    expect(one).toBeGreaterThanOrEqual(t0 - 1_000_000_000n); // clock granularity of the client's second
    expect(two - one).toBeGreaterThanOrEqual(2_500_000_000n);
    expect(err).toBeGreaterThanOrEqual(two);
    expect(two).toBeLessThanOrEqual(BigInt(Date.now()) * 1_000_000n);

    const mid = one + (two - one) / 2n;
    const since = await stamped('lt', ['--since', unix(mid)]);
    expect(since.map(([, l]) => l).sort()).toEqual(['err', 'two']);
    const until = await stamped('lt', ['--until', unix(mid)]);
    expect(until.map(([, l]) => l)).toEqual(['one']);
    // Without -t: the lines as written, selected by time.
    expect((await ok(['logs', '--since', unix(mid), 'lt'])).split('\n')).toEqual(['two']);

    // A new keeper (restart) appends to the same log and index: old lines keep their times.
    await ok(['restart', '-t', '1', 'lt']);
    expect(await waitFor(async () => (await stamped('lt')).filter(([, l]) => l === 'one').length === 2, 60_000, 200)).toBe(true);
    const after = await stamped('lt');
    expect(after.slice(0, 2)).toEqual(lines.slice(0, 2));
    const ones = after.filter(([, l]) => l === 'one');
    expect(ones[1]![0]).toBeGreaterThan(two);

    // Follow until a time a few seconds ahead: it ends by itself once that has passed, with the lines since.
    const end = BigInt(Date.now()) * 1_000_000n + 3_000_000_000n;
    const f = await run(['logs', '-f', '-t', '--since', unix(mid), '--until', unix(end), 'lt'], { timeoutMs: 60_000 });
    expect(f.code).toBe(0);
    const followed = (f.stdout + f.stderr).split('\n').filter(Boolean).map((l) => STAMP.exec(l)![3]);
    expect(followed.filter((l) => l === 'one')).toHaveLength(1); // the restart's, not the first
    expect(followed).toContain('two');

    // Not a time: Docker's 400.
    const bad = await docker.raw('GET', '/v1.41/containers/lt/logs?stdout=1&since=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).message).toMatch(/invalid time "yesterday"/);
    await ok(['rm', '-f', 'lt']);
  });
});
