// A small classic-BPF interpreter with seccomp's rules, used by the tests to
// prove that what the compiler emits decides every syscall the way the rules
// say. It refuses what the kernel's checker refuses (seccomp_check_filter +
// bpf_check_classic), so a program that passes here is one the kernel loads.
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_JA, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MAXINSNS,
  BPF_MEM, BPF_MISC, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB,
  BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR, SECCOMP_DATA_ARCH, SECCOMP_DATA_NR,
  SECCOMP_DATA_SIZE, SECCOMP_RET_ALLOW, type Insn,
} from './bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  /** Up to six 64-bit argument values (missing ones are 0). */
  args?: readonly bigint[];
}

const U64 = (1n << 64n) - 1n;

/** The 64 bytes of struct seccomp_data, little-endian as on x86_64 and aarch64. */
export function seccompDataBytes(d: SeccompData): Buffer {
  const buf = Buffer.alloc(SECCOMP_DATA_SIZE);
  buf.writeInt32LE(d.nr | 0, 0);
  buf.writeUInt32LE(d.arch >>> 0, 4);
  buf.writeBigUInt64LE((d.ip ?? 0n) & U64, 8);
  for (let i = 0; i < 6; i++) buf.writeBigUInt64LE((d.args?.[i] ?? 0n) & U64, 16 + 8 * i);
  return buf;
}

/** The opcodes seccomp_check_filter() accepts (every other one is -EINVAL). */
const ALLOWED = new Set<number>([
  BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN,
  BPF_RET | BPF_K, BPF_RET | BPF_A,
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH]
    .flatMap((op) => [BPF_ALU | op | BPF_K, BPF_ALU | op | BPF_X]),
  BPF_ALU | BPF_NEG,
  BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX,
  BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

/** Throws (with the instruction index) for anything the kernel would refuse to load. */
export function checkProgram(prog: readonly Insn[]): void {
  if (prog.length === 0 || prog.length > BPF_MAXINSNS) {
    throw new Error(`program length ${prog.length} outside 1..${BPF_MAXINSNS}`);
  }
  prog.forEach((insn, pc) => {
    if (!ALLOWED.has(insn.code)) throw new Error(`insn ${pc}: opcode 0x${insn.code.toString(16)} not allowed in seccomp`);
    if (insn.code === (BPF_LD | BPF_W | BPF_ABS) && (insn.k >= SECCOMP_DATA_SIZE || insn.k % 4 !== 0)) {
      throw new Error(`insn ${pc}: load at offset ${insn.k} outside seccomp_data or misaligned`);
    }
    if ((insn.code & 0x07) === BPF_JMP) {
      if (insn.code === (BPF_JMP | BPF_JA)) {
        if (insn.k >= prog.length - pc - 1) throw new Error(`insn ${pc}: JA +${insn.k} jumps past the end`);
      } else if (pc + 1 + insn.jt >= prog.length || pc + 1 + insn.jf >= prog.length) {
        throw new Error(`insn ${pc}: conditional jump past the end`);
      }
    }
    if (insn.code === (BPF_ALU | BPF_DIV | BPF_K) && insn.k === 0) throw new Error(`insn ${pc}: division by zero`);
    if ((insn.code === (BPF_LD | BPF_MEM) || insn.code === (BPF_LDX | BPF_MEM) || insn.code === BPF_ST || insn.code === BPF_STX) && insn.k >= 16) {
      throw new Error(`insn ${pc}: scratch memory index ${insn.k} out of range`);
    }
  });
  const last = prog[prog.length - 1]!;
  if ((last.code & 0x07) !== BPF_RET) throw new Error('program does not end with a return');
}

export interface RunResult {
  /** The seccomp return value (action | data). */
  ret: number;
  /** Instructions executed: the cost of this decision. */
  steps: number;
  /** True when an argument or the instruction pointer was read on the way. */
  loadedArgs: boolean;
}

/** Runs a (checked) program on one seccomp_data. */
export function runFilter(prog: readonly Insn[], data: SeccompData): RunResult {
  const bytes = seccompDataBytes(data);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  let steps = 0;
  let loadedArgs = false;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    steps++;
    switch (code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (k !== SECCOMP_DATA_NR && k !== SECCOMP_DATA_ARCH) loadedArgs = true;
        a = bytes.readUInt32LE(k);
        break;
      case BPF_LD | BPF_W | BPF_LEN: a = SECCOMP_DATA_SIZE; break;
      case BPF_LDX | BPF_W | BPF_LEN: x = SECCOMP_DATA_SIZE; break;
      case BPF_LD | BPF_IMM: a = k >>> 0; break;
      case BPF_LDX | BPF_IMM: x = k >>> 0; break;
      case BPF_LD | BPF_MEM: a = mem[k]!; break;
      case BPF_LDX | BPF_MEM: x = mem[k]!; break;
      case BPF_ST: mem[k] = a; break;
      case BPF_STX: mem[k] = x; break;
      case BPF_MISC | BPF_TAX: x = a; break;
      case BPF_MISC | BPF_TXA: a = x; break;
      case BPF_RET | BPF_K: return { ret: k >>> 0, steps, loadedArgs };
      case BPF_RET | BPF_A: return { ret: a >>> 0, steps, loadedArgs };
      case BPF_ALU | BPF_NEG: a = (-a) >>> 0; break;
      case BPF_JMP | BPF_JA: pc += k >>> 0; break;
      default: {
        const src = (code & BPF_X) ? x : (k >>> 0);
        if ((code & 0x07) === BPF_ALU) {
          a = alu(code & 0xf0, a, src);
        } else if ((code & 0x07) === BPF_JMP) {
          pc += jump(code & 0xf0, a, src) ? jt : jf;
        } else {
          throw new Error(`insn ${pc}: opcode 0x${code.toString(16)} not supported`);
        }
      }
    }
  }
  throw new Error('fell off the end of the program');
}

function alu(op: number, a: number, src: number): number {
  switch (op) {
    case BPF_ADD: return (a + src) >>> 0;
    case BPF_SUB: return (a - src) >>> 0;
    case BPF_MUL: return Number((BigInt(a) * BigInt(src)) & 0xffffffffn);
    case BPF_DIV: return src === 0 ? 0 : Math.floor(a / src) >>> 0;
    case BPF_AND: return (a & src) >>> 0;
    case BPF_OR: return (a | src) >>> 0;
    case BPF_XOR: return (a ^ src) >>> 0;
    case BPF_LSH: return src >= 32 ? 0 : (a << src) >>> 0;
    case BPF_RSH: return src >= 32 ? 0 : a >>> src;
    default: throw new Error(`ALU op 0x${op.toString(16)} not supported`);
  }
}

function jump(op: number, a: number, src: number): boolean {
  switch (op) {
    case BPF_JEQ: return a === src;
    case BPF_JGT: return a > src;
    case BPF_JGE: return a >= src;
    case BPF_JSET: return (a & src) !== 0;
    default: throw new Error(`jump op 0x${op.toString(16)} not supported`);
  }
}

/**
 * The kernel's seccomp action-cache emulator (kernel/seccomp.c,
 * seccomp_is_const_allow): a syscall is cached as "always allowed" only when
 * the path to RET ALLOW loads nothing but nr and arch and uses only
 * JA/JEQ/JGE/JGT/JSET with K operands and AND K. Same walk here, so a test can
 * prove the hot syscalls never run the filter at all.
 */
export function isConstAllow(prog: readonly Insn[], arch: number, nr: number): boolean {
  let reg = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    switch (code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (k === SECCOMP_DATA_NR) reg = nr >>> 0;
        else if (k === SECCOMP_DATA_ARCH) reg = arch >>> 0;
        else return false;
        break;
      case BPF_RET | BPF_K:
        return (k >>> 0) === SECCOMP_RET_ALLOW;
      case BPF_JMP | BPF_JA:
        pc += k >>> 0;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += jump(code & 0xf0, reg, k >>> 0) ? jt : jf;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        reg = (reg & k) >>> 0;
        break;
      default:
        return false;
    }
  }
  return false;
}
