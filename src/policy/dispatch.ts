// The dense dispatch table the supervisor reads (native/supervisor/dispatch.h):
// per ABI, one handler id per syscall number. Little-endian:
//   u32 magic "LXZD" (0x445a584c), u32 version 1, u32 flags, u32 nabis,
//   per ABI: u32 auditArch, u32 n (= maxNr + 1), n bytes of handler ids,
//   padded with zeros to a multiple of 4.
import { handlerId, HANDLERS, type HandlerName } from './handlers.js';
import { notifyHandler } from './disposition.js';
import type { ResolvedProfile, ResolvedSyscall } from './types.js';

export const DISPATCH_MAGIC = 0x445a584c;
export const DISPATCH_VERSION = 1;
/** flags bit 0: an unsupported syscall gets SIGSYS instead of ENOSYS. */
export const DISPATCH_FLAG_UNSUPPORTED_SIGSYS = 1;

/** The handler the supervisor runs when this syscall is notified (0 = unsupported: never notified or no handler). */
export function dispatchHandler(sc: ResolvedSyscall): number {
  for (const action of [...sc.rules.map((r) => r.action), sc.action]) {
    const h = notifyHandler(action);
    if (h) return handlerId(h);
  }
  return handlerId('unsupported');
}

export function encodeDispatch(profiles: readonly ResolvedProfile[], maxNrs: readonly number[]): Buffer {
  const sigsys = profiles.some((p) => p.unsupported === 'sigsys');
  const parts: Buffer[] = [];
  const head = Buffer.alloc(16);
  head.writeUInt32LE(DISPATCH_MAGIC, 0);
  head.writeUInt32LE(DISPATCH_VERSION, 4);
  head.writeUInt32LE(sigsys ? DISPATCH_FLAG_UNSUPPORTED_SIGSYS : 0, 8);
  head.writeUInt32LE(profiles.length, 12);
  parts.push(head);
  profiles.forEach((p, i) => {
    const n = maxNrs[i]! + 1;
    const abiHead = Buffer.alloc(8);
    abiHead.writeUInt32LE(p.auditArch >>> 0, 0);
    abiHead.writeUInt32LE(n, 4);
    const ids = Buffer.alloc(Math.ceil(n / 4) * 4);
    for (const sc of p.syscalls) ids[sc.nr] = dispatchHandler(sc);
    parts.push(abiHead, ids);
  });
  return Buffer.concat(parts);
}

export interface DecodedDispatch {
  flags: number;
  abis: { auditArch: number; handlers: number[] }[];
}

/** Reads dispatch bytes back (tests, `policy show --dispatch`). */
export function decodeDispatch(buf: Buffer): DecodedDispatch {
  if (buf.readUInt32LE(0) !== DISPATCH_MAGIC) throw new Error('not a dispatch table (bad magic)');
  if (buf.readUInt32LE(4) !== DISPATCH_VERSION) throw new Error(`dispatch table version ${buf.readUInt32LE(4)} unknown`);
  const flags = buf.readUInt32LE(8);
  const nabis = buf.readUInt32LE(12);
  let o = 16;
  const abis: DecodedDispatch['abis'] = [];
  for (let i = 0; i < nabis; i++) {
    const auditArch = buf.readUInt32LE(o);
    const n = buf.readUInt32LE(o + 4);
    o += 8;
    const handlers = [...buf.subarray(o, o + n)];
    if (handlers.some((h) => h >= HANDLERS.length)) throw new Error('dispatch table names an unknown handler');
    abis.push({ auditArch, handlers });
    o += Math.ceil(n / 4) * 4;
  }
  if (o !== buf.length) throw new Error(`dispatch table has ${buf.length - o} trailing bytes`);
  return { flags, abis };
}

/** Whether any syscall of any ABI is dispatched to this handler (e.g. does the zone trace anything). */
export function dispatchUses(buf: Buffer, handler: HandlerName): boolean {
  const id = handlerId(handler);
  return decodeDispatch(buf).abis.some((a) => a.handlers.includes(id));
}
