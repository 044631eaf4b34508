// A pod as containerd's CRI plugin makes one: a sandbox ("pause") container,
// then a container whose linux.namespaces name the sandbox's network, IPC
// and UTS namespaces by /proc/PID/ns/* of the pid lxzone-runc reported. The
// second zone joins them (one loopback, one hostname) and the sandbox zone's
// user namespace and host id range; the host's own namespaces and those of a
// foreign user namespace are refused, leaving nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { heldTransientSlots } from '../src/zone/ids.js';
import { defaultPaths } from '../src/zone/state/paths.js';
import { useOciHarness, waitFor } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';

describeUnless(rootOnly(), 'lxzone-runc linux.namespaces paths (a pod)', () => {
  let sandboxPid = 0;
  const foreign: ChildProcess[] = [];
  const h = useOciHarness('lxz85pod', {
    after: async () => {
      for (const p of foreign) {
        p.kill('SIGKILL');
        await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(undefined) : p.once('exit', r)));
      }
      await Promise.all(readdirSync(h.stateDir).map((id) => h.runc(['delete', '--force', id])));
    },
    timeoutMs: 180_000,
    afterTimeoutMs: 180_000,
  });

  /** A bundle with nc and readlink, a script the sandbox's server runs. */
  const podBundle = (name: string, edit: (c: any) => void): string =>
    h.bundle(name, (c) => {
      for (const a of ['nc', 'readlink']) symlinkSync('busybox', join(c.root.path, 'bin', a));
      writeFileSync(join(c.root.path, 'bin', 'hello'), '#!/bin/sh\necho hello-from-the-sandbox\n');
      chmodSync(join(c.root.path, 'bin', 'hello'), 0o755);
      edit(c);
    });

  const joining = (c: any, pid: number, types: Record<string, string>): void => {
    c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (types[n.type] ? { type: n.type, path: `/proc/${pid}/ns/${types[n.type]}` } : n));
  };

  beforeAll(async () => {
    const b = podBundle('sandbox', (c) => {
      c.hostname = 'the-pod';
      // A server on the pod's loopback: what the other container reaches.
      c.process.args = ['/bin/nc', '-ll', '-p', '8080', '-e', '/bin/hello'];
    });
    const pidFile = join(h.work, 'sandbox.pid');
    const r = await h.runc(['create', '--bundle', b, '--pid-file', pidFile, 'sandbox'], { out: join(h.work, 'sandbox.out') });
    expect(r.code, r.stderr).toBe(0);
    const s = await h.runc(['start', 'sandbox']);
    expect(s.code, s.stderr).toBe(0);
    sandboxPid = Number(readFileSync(pidFile, 'utf8'));
  }, 180_000);


  it('a container joining the sandbox\'s network, IPC and UTS namespaces shares its loopback, hostname and user namespace', async () => {
    const b = podBundle('app', (c) => {
      joining(c, sandboxPid, { network: 'net', ipc: 'ipc', uts: 'uts' });
      delete c.hostname;
      c.process.args = ['/bin/sh', '-c', [
        'echo host=$(hostname)',
        // The server may still be coming up: poll, never sleep a fixed time.
        'i=0; until out=$(nc 127.0.0.1 8080 </dev/null) && [ -n "$out" ]; do i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.1; done; echo got=$out',
        'echo net=$(readlink /proc/self/ns/net) ipc=$(readlink /proc/self/ns/ipc) uts=$(readlink /proc/self/ns/uts) user=$(readlink /proc/self/ns/user)',
        'echo map=$(cat /proc/self/uid_map)',
      ].join('; ')];
    });
    const r = await h.runc(['run', '--bundle', b, 'app']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('host=the-pod');
    expect(r.stdout).toContain('got=hello-from-the-sandbox');
    // The sandbox zone's own process (the keeper's child) is in the same namespaces.
    const rec = JSON.parse(readFileSync(join(h.stateDir, 'sandbox', 'state.json'), 'utf8'));
    const ns = (t: string): string => readlinkSync(`/proc/${rec.initPid}/ns/${t}`);
    expect(r.stdout).toContain(`net=${ns('net')} ipc=${ns('ipc')} uts=${ns('uts')} user=${ns('user')}`);
    expect(r.stdout).toMatch(new RegExp(`map=\\s*0\\s+${rec.idBase}\\s`));
  }, 120_000);

  it('the pod\'s host id range stays claimed while a member runs, after its sandbox is gone', async () => {
    const sb = podBundle('sb2', (c) => {
      c.process.args = ['/bin/sleep', '300'];
    });
    const pidFile = join(h.work, 'sb2.pid');
    expect((await h.runc(['create', '--bundle', sb, '--pid-file', pidFile, 'sb2'], { out: join(h.work, 'sb2.out') })).code).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const member = podBundle('m2', (c) => {
      joining(c, pid, { network: 'net', ipc: 'ipc', uts: 'uts' });
      delete c.hostname;
      c.process.args = ['/bin/sleep', '300'];
    });
    const cm = await h.runc(['create', '--bundle', member, 'm2'], { out: join(h.work, 'm2.out') });
    expect(cm.code, cm.stderr).toBe(0);
    const sbRec = JSON.parse(readFileSync(join(h.stateDir, 'sb2', 'state.json'), 'utf8'));
    const mRec = JSON.parse(readFileSync(join(h.stateDir, 'm2', 'state.json'), 'utf8'));
    expect(mRec.idBase).toBe(sbRec.idBase);
    expect(mRec.pod).toBe('sb2');
    const ids = join(defaultPaths().runtimeDir, 'ids');
    const holder = (s: number): number | undefined => {
      try {
        return JSON.parse(readFileSync(join(ids, String(s)), 'utf8')).pid;
      } catch {
        return undefined; // released meanwhile by another test's zone
      }
    };
    const slots = heldTransientSlots().filter((s) => holder(s) === sbRec.keeper.pid);
    expect(slots.length).toBe(1);
    expect((await h.runc(['delete', '--force', 'sb2'])).code).toBe(0);
    // The sandbox's claim file is still there: its range is the member's too.
    expect(existsSync(join(ids, String(slots[0])))).toBe(true);
    expect((await h.runc(['delete', '--force', 'm2'])).code).toBe(0);
    expect(existsSync(join(ids, String(slots[0])))).toBe(false);
    expect(readdirSync(ids).filter((f) => f.startsWith(`${slots[0]}.`))).toEqual([]);
  }, 180_000);

  it('the host\'s own namespaces are refused naming the field, nothing left behind', async () => {
    const kinds = [['network', 'net'], ['uts', 'uts']] as const;
    // Independent refusals: at once (each is a Node start under the host's load).
    const results = await Promise.all(kinds.map(([type, ns]) => {
      const b = podBundle(`host-${ns}`, (c) => {
        joining(c, process.pid, { [type]: ns });
        delete c.hostname;
      });
      return h.runc(['create', '--bundle', b, `host-${ns}`]);
    }));
    for (const [i, [, ns]] of kinds.entries()) {
      const r = results[i]!;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`linux.namespaces (${ns})`);
      expect(r.stderr).toContain("the host's own");
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(h.stateDir, `host-${ns}`))).toBe(false);
    }
  }, 120_000);

  it('the sandbox\'s pid namespace (shareProcessNamespace) is refused naming the field, nothing left behind', async () => {
    const b = podBundle('pid-share', (c) => {
      joining(c, sandboxPid, { network: 'net', pid: 'pid' });
    });
    const r = await h.runc(['create', '--bundle', b, 'pid-share']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.namespaces\[\d\]\.path: joining an existing pid namespace .* each zone has its own pid namespace and init/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(h.stateDir, 'pid-share'))).toBe(false);
  }, 120_000);

  it('a namespace of another user namespace (not a zone of this root) is refused by the shim', async () => {
    // What an attacker on the host could prepare: a network namespace its own
    // user namespace owns, which a zone's root must not be made to share.
    const p = spawn('unshare', ['--user', '--map-root-user', '--net', 'sleep', '300'], { stdio: 'ignore' });
    foreign.push(p);
    await waitFor('the foreign namespace', () => {
      try {
        return readlinkSync(`/proc/${p.pid}/ns/net`) !== readlinkSync('/proc/self/ns/net');
      } catch {
        return false;
      }
    });
    const b = podBundle('foreign', (c) => {
      joining(c, p.pid!, { network: 'net' });
    });
    const r = await h.runc(['create', '--bundle', b, 'foreign']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('belongs to another user namespace');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(h.stateDir, 'foreign'))).toBe(false);
  }, 120_000);

  it('joining a mount namespace, or a hostname with a joined UTS namespace, is refused naming the field', async () => {
    const kinds = [['mount', 'mnt', 'linux.namespaces['], ['uts', 'uts', 'hostname']] as const;
    const results = await Promise.all(kinds.map(([type, ns]) => {
      const b = podBundle(`bad-${ns}`, (c) => {
        joining(c, sandboxPid, { [type]: ns });
        if (type === 'uts') c.hostname = 'mine';
      });
      return h.runc(['create', '--bundle', b, `bad-${ns}`]);
    }));
    for (const [i, [, ns, field]] of kinds.entries()) {
      const r = results[i]!;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(field);
      expect(existsSync(join(h.stateDir, `bad-${ns}`))).toBe(false);
    }
  }, 120_000);
});
