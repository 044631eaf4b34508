// The shape of a bench run's results (bench/results/latest.json): one
// section per item of issue 9 (+ the noisy neighbour of issue 10), rows of
// medians with their ratio to a baseline, and the targets checked.

export const SECTION_IDS = ['passthrough', 'notified', 'start', 'work', 'density', 'noisy', 'images'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

export interface Row {
  /** What was measured ("getppid", "/bin/true start to exit"). */
  name: string;
  /** Where: "native", "lxzone", "bwrap", … */
  variant: string;
  unit: string;
  /** Median over all samples; null when nothing could be measured. */
  median: number | null;
  samples: number;
  min?: number;
  max?: number;
  /** median / the baseline row's median. */
  ratio?: number | null;
  /** The variant the ratio is taken against. */
  ratioTo?: string;
  note?: string;
  /** Every sample, in the order taken: kept in samples.json beside latest.json, not in it. */
  raw?: number[];
}

export interface Check {
  /** The target in words, as the issue states it. */
  target: string;
  /** The measured value the target is about (a ratio, ms, KiB, …). */
  value: number | null;
  unit: string;
  /** null when it could not be decided (a peer missing, a failure). */
  met: boolean | null;
}

export interface SectionResult {
  id: SectionId;
  title: string;
  /** ok: all rows measured; partial: some skipped (a missing peer); failed: an error stopped the section. */
  status: 'ok' | 'partial' | 'failed' | 'not-run';
  /** Skips, errors and remarks, as printed on stderr during the run. */
  messages: string[];
  rows: Row[];
  checks: Check[];
  /** Extra figures that are not medians of a variant (counts, rates). */
  details?: Record<string, unknown>;
  durationMs: number;
}

export interface Machine {
  cpu: string;
  cores: number;
  kernel: string;
  memoryBytes: number;
  os: string;
  node: string;
  virtualization: string;
  /** How the kernel wakes the supervisor for a notified syscall (sync-wakeup on 6.6+, plain before): the
   *  notified section's figures depend on it. Absent in results made before it was recorded. */
  notificationMode?: string;
  loadAverageAtStart: number[];
}

export interface BenchOptions {
  sections: SectionId[];
  quick: boolean;
  /** Process runs per variant of a syscall loop (each run is a fresh process / zone). */
  runs: number;
  /** Batches per run and calls per batch of the passthrough loops. */
  batches: number;
  calls: number;
  /** Calls per batch of the notified (slow) loops. */
  notifyCalls: number;
  /** Start-to-exit runs per variant (API, bwrap, proot); the CLI gets cliRuns. */
  startRuns: number;
  cliRuns: number;
  /** Rounds of each real-work task per variant. */
  workRuns: number;
  density: number;
  densityRounds: number;
  noisyRounds: number;
  out: string;
  docs: boolean;
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  finishedAt: string;
  /** The lxzone commit measured (git HEAD, or LXZONE_BENCH_COMMIT for a snapshot without .git). */
  commit: string;
  machine: Machine;
  options: BenchOptions;
  sections: Record<SectionId, SectionResult>;
}
