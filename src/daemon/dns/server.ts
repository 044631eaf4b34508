// One user network's DNS server: UDP and TCP on port 53 of the network's
// gateway addresses, IPv4 and IPv6 (the only port the bridge's host guard lets zones reach,
// guard.ts; the address lives on the bridge, so it is not bound anywhere
// else). What bounds it, as a zone could attack it:
//   - only sources in the network's subnet are answered (the per-port
//     anti-spoofing table makes a zone's source its own address), so it
//     reflects nothing towards other hosts;
//   - a token bucket per source address (RATE/s, BURST) and a cap on the
//     sources tracked; queries over the rate are dropped unanswered;
//   - ANY/AXFR refused, UDP answers cut to 512 bytes or the client's EDNS
//     size (at most 1232) with TC set: an answer is never much larger than
//     what a zone could have sent itself;
//   - TCP: at most MAX_TCP connections, one query in flight each, idle
//     connections closed after 10 s, messages over 1232 bytes close it;
//   - forwarding has its own global budget (forward.ts).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { BlockList, createServer, type Server, type Socket } from 'node:net';
import { decide, type NameTable, udpLimit, RCODE, reply, UDP_MAX } from './answer.js';
import type { Forwarder } from './forward.js';
import { ipv4ToInt } from '../../zone/network/addressing.js';

const RATE = 100;
const BURST = 200;
const MAX_SOURCES = 4096;
const MAX_TCP = 32;
const TCP_IDLE_MS = 10_000;

export interface NetworkDnsOptions {
  /** The gateway address to bind. */
  address: string;
  /** The network's subnet: network address and prefix length. */
  network: number;
  prefixLen: number;
  /** The gateway's IPv6 address and the network's /64 ("fd..::/64"): served there too when given. */
  address6?: string;
  prefix6?: string;
  port?: number;
  /** The names a query from `source` (an address in the subnet) is answered from. */
  table: (source: string) => Promise<NameTable>;
  forwarder: Forwarder;
  /** false on an internal network: names it does not hold are refused, never asked outside. */
  forward?: boolean;
  log: (line: string) => void;
}

export class NetworkDns {
  readonly #udp: UdpSocket[] = [];
  readonly #tcp: Server[] = [];
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #conns = new Set<Socket>();
  readonly #subnet6 = new BlockList();

  constructor(private readonly o: NetworkDnsOptions) {
    if (o.prefix6 !== undefined) this.#subnet6.addSubnet(o.prefix6.split('/')[0]!, Number(o.prefix6.split('/')[1] ?? 64), 'ipv6');
  }

  /** UDP and TCP on the gateway's IPv4 address, and on its IPv6 one when given; nothing left bound if one fails. */
  async start(): Promise<void> {
    try {
      await this.#listen(this.o.address, 'udp4');
      if (this.o.address6 !== undefined) await this.#listen(this.o.address6, 'udp6');
    } catch (e) {
      this.close();
      throw e;
    }
  }

  async #listen(address: string, type: 'udp4' | 'udp6'): Promise<void> {
    const port = this.o.port ?? 53;
    const udp = createSocket({ type, reuseAddr: false, ...(type === 'udp6' ? { ipv6Only: true } : {}) });
    udp.on('message', (msg, rinfo) => void this.#onUdp(udp, msg, rinfo.address, rinfo.port));
    udp.on('error', (e) => this.o.log(`dns ${address}: udp: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => {
        udp.off('error', reject);
        resolve();
      });
    }).catch((e) => {
      udp.close();
      throw e;
    });
    this.#udp.push(udp);
    const tcp = createServer({ pauseOnConnect: false }, (c) => this.#onTcp(c));
    tcp.maxConnections = MAX_TCP;
    tcp.on('error', (e) => this.o.log(`dns ${address}: tcp: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ port, host: address, ipv6Only: type === 'udp6' }, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.#tcp.push(tcp);
  }

  close(): void {
    for (const u of this.#udp.splice(0)) u.close();
    for (const t of this.#tcp.splice(0)) t.close();
    for (const c of this.#conns) c.destroy();
  }

  #inSubnet(addr: string): boolean {
    if (addr.includes(':')) return this.o.prefix6 !== undefined && this.#subnet6.check(addr, 'ipv6');
    let n: number;
    try {
      n = ipv4ToInt(addr);
    } catch {
      return false;
    }
    const mask = this.o.prefixLen === 0 ? 0 : (0xffffffff << (32 - this.o.prefixLen)) >>> 0;
    return ((n & mask) >>> 0) === this.o.network;
  }

  /** One token of the source's bucket, or false when it is spent. */
  #admit(addr: string): boolean {
    const now = Date.now();
    let b = this.#buckets.get(addr);
    if (!b) {
      if (this.#buckets.size >= MAX_SOURCES) {
        // Forget the full buckets' sources first: bounded memory whatever the zones claim to be.
        for (const [k, v] of this.#buckets) if (v.tokens >= BURST || now - v.at > 10_000) this.#buckets.delete(k);
        if (this.#buckets.size >= MAX_SOURCES) return false;
      }
      b = { tokens: BURST, at: now };
      this.#buckets.set(addr, b);
    }
    b.tokens = Math.min(BURST, b.tokens + ((now - b.at) / 1000) * RATE);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** The answer to one query, or undefined to stay silent. `limit`: the largest answer the transport takes. */
  async #answer(msg: Buffer, tcp: boolean, source: string): Promise<Buffer | undefined> {
    let table: NameTable;
    try {
      table = await this.o.table(source);
    } catch (e) {
      this.o.log(`dns ${this.o.address}: names: ${(e as Error).message}`);
      table = new Map();
    }
    const d = decide(msg, table);
    if (d.kind === 'drop') return undefined;
    if (d.kind === 'answer') return d.packet;
    const limit = tcp ? UDP_MAX : udpLimit(d.query);
    if (this.o.forward === false) return reply(d.query, RCODE.REFUSED);
    const out = await this.o.forwarder.forward(d.query, d.question, limit);
    return out ?? reply(d.query, RCODE.SERVFAIL);
  }

  async #onUdp(udp: UdpSocket, msg: Buffer, addr: string, port: number): Promise<void> {
    if (!this.#inSubnet(addr) || !this.#admit(addr)) return;
    const out = await this.#answer(msg, false, addr);
    if (out && this.#udp.includes(udp)) udp.send(out, port, addr, () => undefined);
  }

  #onTcp(c: Socket): void {
    const addr = c.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    if (!this.#inSubnet(addr)) {
      c.destroy();
      return;
    }
    this.#conns.add(c);
    c.setTimeout(TCP_IDLE_MS, () => c.destroy());
    c.on('close', () => this.#conns.delete(c));
    c.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let busy = false;
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (buf.length >= 2) {
          const len = buf.readUInt16BE(0);
          if (len > UDP_MAX || len < 12) {
            c.destroy(); // no query is this large (or this small): not a resolver client
            return;
          }
          if (buf.length < 2 + len) break;
          const msg = buf.subarray(2, 2 + len);
          buf = buf.subarray(2 + len);
          if (!this.#admit(addr)) continue;
          c.pause(); // one query at a time per connection: reading stops until it is answered
          const out = await this.#answer(Buffer.from(msg), true, addr);
          if (c.destroyed) return;
          if (out) {
            const head = Buffer.alloc(2);
            head.writeUInt16BE(out.length);
            c.write(Buffer.concat([head, out]));
          }
          c.resume();
        }
      } finally {
        busy = false;
      }
    };
    c.on('data', (chunk: Buffer) => {
      if (buf.length + chunk.length > 2 + UDP_MAX + 2) {
        // Pipelined past one message while the last is answered: more than a client needs.
        if (busy) return void c.destroy();
      }
      buf = Buffer.concat([buf, chunk]);
      void pump();
    });
  }
}
