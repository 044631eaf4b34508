// What a user network's DNS server answers, as pure functions over packets
// (decoded and encoded by dns-packet, never by hand). Names of the network's
// zones come from lxzone's own state (zone configs and IPAM leases, see
// service.ts), never from anything a zone sends, so no zone can plant an
// answer for another; everything else is forwarded (forward.ts) and passed
// back uncached.
import * as dns from 'dns-packet';

export interface Host {
  ipv4: string;
  ipv6?: string;
}

/** Names (lower case, no trailing dot) to the zones that hold them: a compose service scaled up has several. */
export type NameTable = ReadonlyMap<string, readonly Host[]>;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** A plain DNS answer over UDP fits 512 bytes; EDNS clients may ask for more, up to what DNS flag day 2020 advises. */
export const UDP_PLAIN = 512;
export const UDP_MAX = 1232;
/** A zone's name answers live 0 s in caches: a restarted zone keeps its address, a removed one must vanish at once. */
const TTL = 0;

export type Decision =
  | { kind: 'answer'; packet: Buffer }
  | { kind: 'forward'; query: dns.DecodedPacket; question: dns.Question }
  | { kind: 'drop' };

export function decodeQuery(buf: Buffer): dns.DecodedPacket | undefined {
  if (buf.length < 12 || buf.length > UDP_MAX) return undefined;
  try {
    return dns.decode(buf);
  } catch {
    return undefined; // not a DNS packet: nothing to answer
  }
}

/** The largest UDP answer the client takes: 512, or its EDNS payload size up to 1232. */
export function udpLimit(q: dns.DecodedPacket): number {
  const opt = (q.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  return Math.max(UDP_PLAIN, Math.min(UDP_MAX, opt?.udpPayloadSize ?? UDP_PLAIN));
}

export function reply(q: dns.DecodedPacket, rcode: number, answers: dns.Answer[] = []): Buffer {
  return dns.encode({
    type: 'response',
    id: q.id ?? 0,
    flags: dns.RECURSION_AVAILABLE | (q.flag_rd ? dns.RECURSION_DESIRED : 0) | (answers.length && rcode === 0 ? dns.AUTHORITATIVE_ANSWER : 0) | rcode,
    questions: q.questions ?? [],
    answers,
  });
}

/** Decide on one query: answered from the table, forwarded, or dropped (a response, garbage). */
export function decide(buf: Buffer, table: NameTable): Decision {
  const q = decodeQuery(buf);
  if (!q || q.type !== 'query') return { kind: 'drop' }; // never answer an answer: no reflection loops
  const questions = q.questions ?? [];
  if (questions.length !== 1) return { kind: 'answer', packet: reply(q, RCODE.FORMERR) };
  if ((q as { opcode?: string }).opcode !== 'QUERY') return { kind: 'answer', packet: reply(q, RCODE.NOTIMP) };
  const question = questions[0]!;
  if (question.class !== 'IN' && question.class !== undefined) return { kind: 'answer', packet: reply(q, RCODE.REFUSED) };
  const qtype = question.type as string;
  if (qtype === 'ANY' || qtype === 'AXFR' || qtype === 'IXFR') {
    // The classic amplification queries: refused, here and upstream.
    return { kind: 'answer', packet: reply(q, RCODE.REFUSED) };
  }
  const name = question.name.toLowerCase().replace(/\.$/, '');
  const hosts = table.get(name);
  if (hosts) {
    const answers: dns.Answer[] = [];
    for (const h of hosts) {
      if (question.type === 'A') answers.push({ type: 'A', name: question.name, ttl: TTL, class: 'IN', data: h.ipv4 });
      if (question.type === 'AAAA' && h.ipv6) answers.push({ type: 'AAAA', name: question.name, ttl: TTL, class: 'IN', data: h.ipv6 });
    }
    // A zone's name with another type: the name exists, there is no such record (NOERROR, no answers).
    return { kind: 'answer', packet: reply(q, RCODE.NOERROR, answers) };
  }
  // A single label that is no zone here: no upstream knows it either (Docker answers it the same way).
  if (!name.includes('.')) return { kind: 'answer', packet: reply(q, RCODE.NXDOMAIN) };
  return { kind: 'forward', query: q, question };
}

/**
 * An upstream's response for the client: its id put back, cut to what the
 * client takes over UDP (answers dropped and TC set, so it asks again over
 * TCP), or undefined when it is not the answer to this question.
 */
export function relay(q: dns.DecodedPacket, question: dns.Question, upstreamId: number, buf: Buffer, limit: number): Buffer | undefined {
  let r: dns.DecodedPacket;
  try {
    r = dns.decode(buf);
  } catch {
    return undefined;
  }
  const rq = r.questions?.[0];
  // Only the answer to the question we asked, with the id we chose: anything else is a spoof attempt or noise.
  if (r.type !== 'response' || r.id !== upstreamId || r.questions?.length !== 1 || !rq) return undefined;
  if (rq.name.toLowerCase() !== question.name.toLowerCase() || rq.type !== question.type) return undefined;
  const out = Buffer.from(buf);
  out.writeUInt16BE(q.id ?? 0, 0);
  if (out.length <= limit) return out;
  return dns.encode({ type: 'response', id: q.id ?? 0, flags: (r.flags ?? 0) | dns.TRUNCATED_RESPONSE, questions: r.questions, answers: [] });
}
