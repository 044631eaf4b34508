// The syscall coverage report (`lxzone syscalls`, docs/syscalls.md).
export { buildReport, checkDispositionFilter, summarize, summaryLine, DISPOSITION_KINDS } from './model.js';
export type { CoverageReport, CoverageRow, CoverageSummary, DispositionKind, ReportOptions } from './model.js';
export { FORMATS, formatCsv, formatJson, formatMarkdown, formatReport, formatTable, type Format } from './format.js';
export { DEFAULT_RESULTS, parseResults, readResults, type ConformanceResults, type SyscallResult } from './results.js';
export { renderSyscallDocs } from './docs.js';
