// The shapes the conformance suite passes around: one probe line, one run of
// a case (native or in a zone), the verdicts, and the result file that
// `lxzone syscalls` reads (src/coverage/results.ts holds its schema).
import type { Abi } from '../tables/types.js';

/** One line a probe prints (see fixtures/common/probe.h). */
export interface ProbeLine {
  case: string;
  syscall: string;
  ret: number;
  errno: string | null;
  data: Record<string, unknown>;
}

/** One execution of one case, natively or in a zone. */
export interface CaseRun {
  lines: ProbeLine[];
  /** Lines on stdout that are not probe lines (a broken probe, or noise). */
  invalid: string[];
  exitCode: number | null;
  /** The signal that ended the probe, when one did (e.g. "SIGSYS"). */
  signal?: string;
  stderr: string;
  timedOut: boolean;
  /** The run could not happen at all (the zone failed to start, the binary is missing). */
  error?: string;
}

export type Status = 'pass' | 'fail' | 'skip';

export interface LineVerdict {
  /** 0-based index among the case's lines. */
  index: number;
  syscall: string;
  /** pass: as expected; refused: the profile's errno, as expected; fail. */
  status: 'pass' | 'refused' | 'fail';
  diffs: string[];
}

export interface CaseResult {
  /** "<probe>/<case>" for probes, "program/<name>" for real programs. */
  id: string;
  abi: Abi;
  kind: 'probe' | 'program';
  status: Status;
  /** Why skipped, or the first reason it failed. */
  reason?: string;
  /** Known failure reason from fixtures/conformance/known-failures.json (the case failed, as known). */
  knownFailure?: string;
  /** Listed as a known failure but passed: the entry should go. */
  fixed?: boolean;
  diffs: string[];
  lines: LineVerdict[];
  durationMs: number;
}

export interface SyscallVerdict {
  exercised: boolean;
  passed: boolean;
}

export interface ConformanceResultFile {
  version: 1;
  profile: string;
  generatedAt: string;
  syscalls: Partial<Record<Abi, Record<string, SyscallVerdict>>>;
  cases: CaseResult[];
  knownFailures: Record<string, string>;
  /** Syscall names that probes printed but the ABI's table does not have. */
  unknownNames: Partial<Record<Abi, string[]>>;
  /**
   * Per ABI run, the syscalls no case exercised: those the profile lets a
   * zone make (host, emulate, trace: a coverage gap) by name, the refused
   * ones as a count.
   */
  notExercised: Partial<Record<Abi, { allowed: string[]; refused: number }>>;
}
