// The /etc/resolv.conf dockerd gives a container that is on no user-defined
// network (the default bridge, or none): the host's own file with the
// nameservers a container cannot reach left out (127.0.0.0/8 and ::1 are the
// host's loopback, not the zone's), and dockerd's defaults (Google's public
// servers) when none is left. IPv6 nameservers are left out as well: a zone's
// IPv6 stays on its bridge (no NAT), so it could not reach them.
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { writeInPlace } from './networks.js';

/** dockerd's fallback when the host names no server a container can reach. */
const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

const unreachable = (server: string): boolean => /^127\./.test(server) || isIPv6(server.split('%')[0]!);

/** The text for a zone off user-defined networks, from the host's resolv.conf text (absent: no file on the host). */
export function filterHostResolvConf(text: string | undefined): string {
  const lines = (text ?? '').split('\n').filter((line) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    return !m || !unreachable(m[1]!);
  });
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const kept = lines.some((l) => /^\s*nameserver\s/.test(l));
  const out = kept ? lines : [...lines, '# lxzone: the host names no server a zone can reach: dockerd\'s defaults', ...DEFAULT_NAMESERVERS.map((s) => `nameserver ${s}`)];
  return `${out.join('\n')}\n`;
}

/** filterHostResolvConf of the host's /etc/resolv.conf as it is now. */
export function hostResolvConfText(): string {
  let text: string | undefined;
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    text = undefined; // no resolver configured on the host: dockerd's defaults
  }
  return filterHostResolvConf(text);
}

/** The zone's own resolv.conf at `path` for a zone off user-defined networks (in place: a bind of it sees the change); its path. */
export function writeHostResolvConf(path: string): string {
  writeInPlace(path, hostResolvConfText());
  return path;
}
