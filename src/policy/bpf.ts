// Classic BPF as seccomp uses it: opcodes, return actions, the seccomp_data
// layout, and the byte encoding of struct sock_filter[] that the kernel (and
// the shim, which receives the program as bytes) expects.

// Instruction classes and fields (linux/filter.h, linux/bpf_common.h).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;

export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;

export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;

export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;

export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_A = 0x10;

export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

/** The kernel refuses programs longer than this (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

// seccomp return actions (linux/seccomp.h). The low 16 bits are data (errno).
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

// struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP = 8;
export const SECCOMP_DATA_ARGS = 16;
export const SECCOMP_DATA_SIZE = 64;

/** Offset of the low (lo) or high (hi) 32-bit half of argument i: little-endian hosts only. */
export function argOffset(i: number, half: 'lo' | 'hi'): number {
  return SECCOMP_DATA_ARGS + 8 * i + (half === 'hi' ? 4 : 0);
}

/** x32 syscalls arrive with arch x86_64 and this bit set in nr. */
export const X32_SYSCALL_BIT = 0x40000000;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const SOCK_FILTER_SIZE = 8;

/** struct sock_filter[] little-endian: u16 code, u8 jt, u8 jf, u32 k. */
export function encodeProgram(insns: readonly Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * SOCK_FILTER_SIZE);
  insns.forEach((insn, i) => {
    const o = i * SOCK_FILTER_SIZE;
    buf.writeUInt16LE(insn.code, o);
    buf.writeUInt8(insn.jt, o + 2);
    buf.writeUInt8(insn.jf, o + 3);
    buf.writeUInt32LE(insn.k >>> 0, o + 4);
  });
  return buf;
}

export function decodeProgram(buf: Buffer): Insn[] {
  if (buf.length % SOCK_FILTER_SIZE !== 0) {
    throw new RangeError(`BPF program of ${buf.length} bytes is not a multiple of ${SOCK_FILTER_SIZE}`);
  }
  const out: Insn[] = [];
  for (let o = 0; o < buf.length; o += SOCK_FILTER_SIZE) {
    out.push({
      code: buf.readUInt16LE(o),
      jt: buf.readUInt8(o + 2),
      jf: buf.readUInt8(o + 3),
      k: buf.readUInt32LE(o + 4),
    });
  }
  return out;
}

/** A human-readable name for a seccomp return value (tests and `policy show --bpf`). */
export function describeAction(ret: number): string {
  const action = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = ret & SECCOMP_RET_DATA;
  switch (action) {
    case SECCOMP_RET_KILL_PROCESS: return 'KILL_PROCESS';
    case SECCOMP_RET_KILL_THREAD: return 'KILL_THREAD';
    case SECCOMP_RET_TRAP: return `TRAP(${data})`;
    case SECCOMP_RET_ERRNO: return `ERRNO(${data})`;
    case SECCOMP_RET_USER_NOTIF: return 'USER_NOTIF';
    case SECCOMP_RET_TRACE: return `TRACE(${data})`;
    case SECCOMP_RET_LOG: return 'LOG';
    case SECCOMP_RET_ALLOW: return 'ALLOW';
    default: return `0x${(ret >>> 0).toString(16)}`;
  }
}

const FIELD_NAMES: Record<number, string> = { 0: 'nr', 4: 'arch', 8: 'ip.lo', 12: 'ip.hi' };

function fieldName(k: number): string {
  if (FIELD_NAMES[k]) return FIELD_NAMES[k]!;
  if (k >= SECCOMP_DATA_ARGS && k < SECCOMP_DATA_SIZE) {
    const i = Math.floor((k - SECCOMP_DATA_ARGS) / 8);
    return `args[${i}].${(k - SECCOMP_DATA_ARGS) % 8 ? 'hi' : 'lo'}`;
  }
  return `[${k}]`;
}

/** One line per instruction, in the style of bpf_dbg / seccomp-tools (for `policy show --bpf`). */
export function disassemble(insns: readonly Insn[]): string[] {
  const hex = (k: number): string => `0x${(k >>> 0).toString(16)}`;
  return insns.map((insn, pc) => {
    const { code, jt, jf, k } = insn;
    const at = String(pc).padStart(4, '0');
    const to = (off: number): string => String(pc + 1 + off).padStart(4, '0');
    let text: string;
    if (code === (BPF_LD | BPF_W | BPF_ABS)) text = `ld  ${fieldName(k)}`;
    else if (code === (BPF_RET | BPF_K)) text = `ret ${describeAction(k)}`;
    else if (code === (BPF_JMP | BPF_JA)) text = `ja  ${to(k)}`;
    else if ((code & 0x07) === BPF_JMP) {
      const op = { [BPF_JEQ]: 'jeq', [BPF_JGT]: 'jgt', [BPF_JGE]: 'jge', [BPF_JSET]: 'jset' }[code & 0xf0] ?? `j?${code & 0xf0}`;
      text = `${op} ${hex(k)} ? ${to(jt)} : ${to(jf)}`;
    } else if (code === (BPF_ALU | BPF_AND | BPF_K)) text = `and ${hex(k)}`;
    else text = `op 0x${code.toString(16)} k=${hex(k)} jt=${jt} jf=${jf}`;
    return `${at}: ${text}`;
  });
}
