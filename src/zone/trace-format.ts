// strace-style lines for trace records, decoded with the syscall table: the
// names and argument types come from the same data as the filter. A traced
// call is CONTINUEd to the host kernel, so its result is never seen: the line
// ends in "= ?" (strace's own mark for an unknown result) rather than a guess.
import { loadTable, syscallByNr, type Abi } from '../tables/index.js';
import type { ZoneEvent } from './events.js';
import { dispatchUses } from '../policy/dispatch.js';

// Only input strings: an output buffer (char *buf of read) holds nothing yet.
const STRING_TYPE = /^const\s+char\s*(__user\s*)?\*\s*$/;

const tracingDispatch = new WeakMap<Buffer, boolean>();

/**
 * Per ABI (in filter order) 4096 bytes: bit i set when argument i is a C
 * string; undefined when the zone's dispatch traces nothing (the common case:
 * loading the tables for it cost a zone start ~10 ms of its CLI's time).
 */
export function traceStringMasks(abis: readonly Abi[], dispatch: Buffer): Buffer | undefined {
  // Whether it traces is a fact of the dispatch table's bytes: decoded once
  // per table (planZone gets the same Buffer from its policy cache on every
  // start; decoding it was a tenth of planZone's time).
  let traces = tracingDispatch.get(dispatch);
  if (traces === undefined) {
    traces = dispatchUses(dispatch, 'trace');
    tracingDispatch.set(dispatch, traces);
  }
  if (!traces) return undefined;
  const out = Buffer.alloc(abis.length * 4096);
  abis.forEach((abi, index) => {
    for (const sc of loadTable(abi).syscalls) {
      if (sc.nr >= 4096) continue;
      let mask = 0;
      sc.args.forEach((arg, i) => {
        if (STRING_TYPE.test(arg.type)) mask |= 1 << i;
      });
      out[index * 4096 + sc.nr] = mask;
    }
  });
  return out;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}` : s) + (s.length > 64 ? '...' : '');
}

function formatArg(type: string, value: bigint, str: string | undefined): string {
  if (str !== undefined && str !== '') return quote(str);
  if (value === 0n && type.includes('*')) return 'NULL';
  if (type.includes('*')) return `0x${value.toString(16)}`;
  // Signed 32-bit types print negative values as strace does.
  if (/^(int|pid_t|long)$/.test(type.trim()) || /\bint\b/.test(type) && !type.includes('unsigned')) {
    const v = BigInt.asIntN(type.includes('long') ? 64 : 32, value);
    return v.toString();
  }
  return value < 4096n ? value.toString() : `0x${value.toString(16)}`;
}

export function formatTraceEvent(ev: Extract<ZoneEvent, { type: 'trace' }>): string {
  const abi = (ev.abi === '?' ? 'x86_64' : ev.abi) as Abi;
  const sc = syscallByNr(abi, ev.nr);
  const name = sc?.name ?? `syscall_${ev.nr}`;
  const args = sc
    ? sc.args.map((arg, i) => formatArg(arg.type, ev.args[i] ?? 0n, ev.strings[i]))
    : ev.args.map((v) => `0x${v.toString(16)}`);
  const prefix = abi === 'x86_64' ? '' : `[${abi}] `;
  return `[pid ${ev.pid}] ${prefix}${name}(${args.join(', ')}) = ?`;
}
