// The broad measurement feeds `lxzone syscalls`: a syscall that a measured
// case exercises (a stress-ng stressor named after it) counts as exercised,
// and as passed only if every such case that passes natively passes in a
// zone too — merged with the probes' verdict (both must hold).
import { existsSync, readFileSync } from 'node:fs';
import type { ConformanceResults, SyscallResult } from '../../coverage/results.js';
import type { Abi } from '../../tables/types.js';
import { DEFAULT_MEASURED, measuredSyscalls, type Measurement } from './measure.js';

/** The last measurement's per-syscall verdicts; empty when none was made (or it cannot be read). */
export function readMeasuredSyscalls(file = DEFAULT_MEASURED): Record<string, SyscallResult> {
  if (!existsSync(file)) return {};
  try {
    return measuredSyscalls(JSON.parse(readFileSync(file, 'utf8')) as Measurement);
  } catch {
    return {}; // a broken measurement file must not break the syscall report; the probes' verdicts stand
  }
}

export function withMeasured(results: ConformanceResults | undefined, abi: Abi, measured: Record<string, SyscallResult>): ConformanceResults | undefined {
  if (Object.keys(measured).length === 0) return results;
  const out: ConformanceResults = results ? { ...results, syscalls: { ...results.syscalls } } : { version: 1, syscalls: {} };
  const mine = { ...(out.syscalls[abi] ?? {}) };
  for (const [name, m] of Object.entries(measured)) {
    const prev = mine[name];
    mine[name] = prev?.exercised ? { exercised: true, passed: prev.passed && m.passed } : m;
  }
  out.syscalls[abi] = mine;
  return out;
}
