// docker system df, ps's Mounts, --tmpfs noexec and volume rm against a
// concurrent create, through the real docker client (Debian's, API 1.41)
// and real zones: df counts the containers, images and volumes (the running
// one active, the volume in use); `ps --format '{{.Mounts}}'` names the
// volume and the bind; a `--tmpfs PATH:noexec` refuses to execute what is
// copied there while an exec tmpfs runs it; `docker volume rm` racing a
// create that names the volume never leaves a container whose volume is
// gone. Nothing left behind.
import { describe, expect, it } from 'vitest';
import { useDocker } from './support/docker.js';

const { ok, run, up } = useDocker(54);

describe('docker system df, ps mounts, tmpfs noexec, volume rm against create', () => {
  it('reports usage, shows mounts, enforces noexec and keeps a volume a new container names', async () => {
    await up();
    await ok(['volume', 'create', 'dfvol']);
    await ok(['run', '-d', '--name', 'mnt', '-v', 'dfvol:/mnt', '-v', '/etc:/opt:ro', '--tmpfs', '/media:noexec', '--tmpfs', '/srv:size=8m', 'host', 'busybox', 'sleep', '600']);

    // ps: the volume's name and the bind's source.
    const mounts = (await ok(['ps', '--format', '{{.Mounts}}'])).split(',').sort();
    expect(mounts).toEqual(['/etc', 'dfvol']);

    // noexec: the same binary copied to both tmpfs runs from the exec one only (126: not executable).
    const tryRun = (dir: string) => run(['exec', 'mnt', 'busybox', 'sh', '-c', `cp "$(command -v busybox)" ${dir}/true && ${dir}/true; echo rc=$?`]);
    expect((await tryRun('/srv')).stdout.trim()).toBe('rc=0');
    const noex = await tryRun('/media');
    expect(noex.stdout.trim()).toBe('rc=126');
    expect(await ok(['exec', 'mnt', 'busybox', 'awk', '$2=="/media"{print $4}', '/proc/mounts'])).toMatch(/(^|,)noexec(,|$)/);

    // system df: one container (running: active), the volume in use, the images.
    const df = Object.fromEntries(
      (await ok(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}'])).split('\n').map((l) => {
        const [type, total, active] = l.split('|');
        return [type, [Number(total), Number(active)]];
      }),
    );
    expect(df.Containers).toEqual([1, 1]);
    expect(df['Local Volumes']).toEqual([1, 1]);
    expect(df.Images![0]).toBeGreaterThanOrEqual(1); // "host", and whatever the store holds
    expect((await ok(['system', 'df', '-v'])).split('\n').some((l) => l.startsWith('dfvol '))).toBe(true);
    await ok(['rm', '-f', 'mnt']);

    // volume rm racing a create that names the volume: never a container whose volume is gone.
    for (let round = 0; round < 3; round++) {
      await ok(['volume', 'create', 'racevol']);
      const [rm, made] = await Promise.all([run(['volume', 'rm', 'racevol']), run(['create', '--name', 'racer', '-v', 'racevol:/mnt', 'host', 'true'])]);
      expect(made.code, made.stderr).toBe(0);
      // Whichever came first, the container's volume is there (rm first: the create made it again; create first: rm refused).
      expect((await run(['volume', 'inspect', 'racevol'])).code, `round ${round}: rm ${rm.code} ${rm.stderr}`).toBe(0);
      if (rm.code !== 0) expect(rm.stderr).toMatch(/volume is in use/);
      await ok(['rm', 'racer']);
      await ok(['volume', 'rm', 'racevol']);
    }

    await ok(['volume', 'rm', 'dfvol']);
    expect(await ok(['ps', '-aq'])).toBe('');
    expect(await ok(['volume', 'ls', '-q'])).toBe('');
  });
});
