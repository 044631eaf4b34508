// A real unprivileged host user for attacks from the host side: made with
// useradd (which also gives it subordinate ids in /etc/subuid and
// /etc/subgid, as on any Debian host) and removed with everything it owned.
import { execFileSync } from 'node:child_process';

export interface HostUser {
  name: string;
  uid: number;
  gid: number;
  /** userdel -r: the account, its home and its subordinate ids go. */
  remove(): void;
}

export function addHostUser(prefix: string): HostUser {
  const name = `${prefix}${process.pid.toString(36)}`.slice(0, 31);
  execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', name], { stdio: 'pipe' });
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return {
    name,
    uid,
    gid,
    remove() {
      // (the test ends the processes it started as the user first)
      execFileSync('userdel', ['--remove', name], { stdio: 'pipe' });
    },
  };
}
