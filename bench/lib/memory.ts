// Host memory readings for the density section: /proc/meminfo (the whole
// host, kernel objects included) and PSS per process (user memory, shared
// pages split among their users, so sums over processes add up).
import { readFileSync } from 'node:fs';

export type MemInfo = Record<string, number>;

/** /proc/meminfo in KiB. */
export function memInfo(): MemInfo {
  const out: MemInfo = {};
  for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Kernel-side memory the host cannot reclaim: slab that stays, kernel stacks, page tables. */
export function kernelKiB(m: MemInfo): number {
  return (m.SUnreclaim ?? 0) + (m.KernelStack ?? 0) + (m.PageTables ?? 0);
}

/** A process's PSS in KiB (0 when it is gone). */
export function pssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The children of a process (its main thread's), from /proc. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Reads /proc/meminfo a few times and keeps the reading with the median MemAvailable (caches are not dropped: that would disturb the other users of the host). */
export async function settledMemAvailable(samples = 5, gapMs = 100): Promise<MemInfo> {
  const all: MemInfo[] = [];
  for (let i = 0; i < samples; i++) {
    all.push(memInfo());
    await new Promise((r) => setTimeout(r, gapMs));
  }
  all.sort((a, b) => (a.MemAvailable ?? 0) - (b.MemAvailable ?? 0));
  return all[all.length >> 1]!;
}
