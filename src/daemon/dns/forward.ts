// Forwarding a query a network's zones cannot answer to the host's resolvers
// (nameserver lines of /etc/resolv.conf, or LXZONE_DNS_UPSTREAMS
// "ip[:port],..."). Each forwarded query goes out on a socket of its own (a
// fresh random source port) with a fresh random id, and only a response from
// the upstream's address and port, with that id and the same question, is
// taken (answer.ts relay): guessing both is what an off-path spoofer would
// have to do. Nothing is cached. At most MAX_IN_FLIGHT queries are out at
// once across all networks; past that a query is answered SERVFAIL at once,
// so a flood costs the daemon sockets it has already budgeted, not more.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as dns from 'dns-packet';
import { relay } from './answer.js';

const MAX_IN_FLIGHT = 128;
const TIMEOUT_MS = 2500;

export interface Upstream {
  host: string;
  port: number;
}

/** The host's resolvers: LXZONE_DNS_UPSTREAMS if set, else /etc/resolv.conf's nameservers (IPv4 and IPv6). */
export function hostUpstreams(env: NodeJS.ProcessEnv = process.env): Upstream[] {
  if (env.LXZONE_DNS_UPSTREAMS) {
    return env.LXZONE_DNS_UPSTREAMS.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(s.includes('.') ? s : `[${s}]`);
        return { host: m?.[1] ?? s, port: Number(m?.[2] ?? 53) };
      })
      .filter((u) => isIP(u.host) !== 0 && u.port > 0 && u.port < 65536);
  }
  let text = '';
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return []; // no resolver on the host: forwarded names fail (SERVFAIL)
  }
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const host = m?.[1]?.replace(/%.*$/, '');
    if (host && isIP(host) !== 0) out.push({ host, port: 53 });
  }
  return out.slice(0, 3); // as the C library does
}

export class Forwarder {
  #inFlight = 0;

  constructor(private readonly upstreams: () => Upstream[]) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  /** The upstream's answer for the client (cut to `limit` bytes), or undefined (no upstream, timeout, budget spent). */
  async forward(q: dns.DecodedPacket, question: dns.Question, limit: number): Promise<Buffer | undefined> {
    const ups = this.upstreams();
    if (ups.length === 0 || this.#inFlight >= MAX_IN_FLIGHT) return undefined;
    this.#inFlight++;
    try {
      for (const up of ups) {
        const r = await this.#ask(up, q, question, limit);
        if (r) return r;
      }
      return undefined;
    } finally {
      this.#inFlight--;
    }
  }

  #ask(up: Upstream, q: dns.DecodedPacket, question: dns.Question, limit: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const id = randomInt(0, 65536);
      const rd = q.flag_rd ? dns.RECURSION_DESIRED : 0;
      // Only the question goes upstream (no options a zone added); we ask for what the client can take.
      const packet = dns.encode({
        type: 'query',
        id,
        flags: rd,
        questions: [{ name: question.name, type: question.type, class: 'IN' }],
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: limit, flags: 0 } as unknown as dns.Answer],
      });
      const sock = createSocket(isIP(up.host) === 6 ? 'udp6' : 'udp4');
      let done = false;
      const finish = (v: Buffer | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.close();
        resolve(v);
      };
      const timer = setTimeout(() => finish(undefined), TIMEOUT_MS);
      sock.on('error', () => finish(undefined));
      sock.on('message', (msg, rinfo) => {
        if (rinfo.address !== up.host || rinfo.port !== up.port) return; // not from the upstream we asked
        const out = relay(q, question, id, msg, limit);
        if (out) finish(out);
      });
      sock.send(packet, up.port, up.host, (err) => {
        if (err) finish(undefined);
      });
    });
  }
}
