// Emits a BPF program back to front. Every jump target is emitted before the
// jump itself, so the distance is known when the jump is written; a
// conditional jump whose target is more than 255 instructions away gets a
// trampoline (JA with a 32-bit offset) right behind it. Identical returns are
// shared while they are reachable, otherwise re-emitted (a RET costs what a
// JA costs). This is the approach of Chromium's sandbox CodeGen.
import { BPF_ABS, BPF_JA, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W, type Insn } from './bpf.js';

/** A position in the program, counted from its end (0 = the last instruction). */
export type Label = number;

const MAX_SHORT = 255;

export class ReverseEmitter {
  private readonly rev: Insn[] = [];
  private readonly rets = new Map<number, Label>();

  get length(): number {
    return this.rev.length;
  }

  /** Distance a jump emitted next would need to reach `target`. */
  private dist(target: Label): number {
    return this.rev.length - target - 1;
  }

  private push(insn: Insn): Label {
    this.rev.push(insn);
    return this.rev.length - 1;
  }

  ret(k: number): Label {
    const seen = this.rets.get(k >>> 0);
    if (seen !== undefined && this.dist(seen) <= MAX_SHORT) return seen;
    const l = this.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: k >>> 0 });
    this.rets.set(k >>> 0, l);
    return l;
  }

  /** Loads the 32-bit word at `offset` of seccomp_data into A, then continues at `next`. */
  load(offset: number, next: Label): Label {
    this.fallthrough(next);
    return this.push({ code: BPF_LD | BPF_W | BPF_ABS, jt: 0, jf: 0, k: offset });
  }

  /** Any non-jump instruction followed by `next`. */
  insn(code: number, k: number, next: Label): Label {
    this.fallthrough(next);
    return this.push({ code, jt: 0, jf: 0, k: k >>> 0 });
  }

  /** Makes `next` the instruction right after the one emitted next (a JA if it is not already). */
  private fallthrough(next: Label): void {
    if (next !== this.rev.length - 1) this.ja(next);
  }

  ja(target: Label): Label {
    if (this.dist(target) === -1) throw new Error('internal: JA to itself');
    const insn = this.rev[target]!;
    // A jump to a return is replaced by the return itself: same size, one step less.
    if (insn.code === (BPF_RET | BPF_K)) return this.push({ ...insn });
    return this.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: this.dist(target) });
  }

  /** Conditional jump (code = BPF_JMP | op | BPF_K) on A against k. */
  jump(code: number, k: number, jt: Label, jf: Label): Label {
    let t = jt;
    let f = jf;
    // Insert trampolines until both targets are within reach; inserting one
    // moves the other target one step further away, hence the loop.
    for (;;) {
      if (this.dist(t) > MAX_SHORT) { t = this.ja(t); continue; }
      if (this.dist(f) > MAX_SHORT) { f = this.ja(f); continue; }
      break;
    }
    return this.push({ code, jt: this.dist(t), jf: this.dist(f), k: k >>> 0 });
  }

  /** The program, first instruction first; `entry` must be the last label emitted. */
  finish(entry: Label): Insn[] {
    if (entry !== this.rev.length - 1) this.ja(entry);
    return [...this.rev].reverse();
  }
}
