// `lxzone syscalls`: every syscall of an ABI with its disposition under a
// profile, its reason and note, and the conformance suite's verdict when a
// result file exists; summary counts at the end.
import { Command, Option } from 'commander';
import { buildReport, formatReport, FORMATS, readResults, type Format } from '../coverage/index.js';
import { LxzoneError } from '../errors.js';
import { ABIS, hostAbis, isAbi } from '../tables/index.js';
import { notificationMode } from '../zone/notification-mode.js';
import { readMeasuredSyscalls, withMeasured } from '../conformance/measure/feed.js';

interface SyscallsOptions {
  abi?: string;
  profile: string;
  format: string;
  class?: string;
  disposition?: string;
  results?: string;
  json?: boolean;
}

const usage = (message: string) => new LxzoneError(message, { code: 'EINVAL', exitCode: 2 });

export function runSyscalls(opts: SyscallsOptions): string {
  const abi = opts.abi ?? hostAbis()[0]!;
  if (!isAbi(abi)) throw usage(`--abi: unknown ABI "${abi}" (one of ${ABIS.join(', ')})`);
  const format = opts.json ? 'json' : opts.format;
  if (!(FORMATS as readonly string[]).includes(format)) throw usage(`--format: unknown format "${format}" (one of ${FORMATS.join(', ')})`);
  const { results: probed, path } = readResults(opts.results);
  // The broad measurement's verdicts (third-party suites) count too, on the host's ABI, with
  // the default result files (an explicit --results file is shown as it is).
  const results = opts.results === undefined ? withMeasured(probed, hostAbis()[0]!, readMeasuredSyscalls()) : probed;
  const report = buildReport({
    abi, profile: opts.profile, class: opts.class, disposition: opts.disposition, results, resultsPath: path,
  });
  // A property of this kernel, not of the tables: csv has no place for it (it is in the json and table header).
  if (format !== 'csv') report.notification = notificationMode();
  return formatReport(report, format as Format);
}

export function register(program: Command): void {
  program
    .command('syscalls')
    .description('list every Linux syscall of an ABI and what a zone does with it (disposition, reason, note, conformance)')
    .addOption(new Option('--abi <abi>', 'syscall ABI (default: the host\'s)').choices([...ABIS]))
    .option('--profile <name>', 'profile: default, strict, permissive, trace, or a rules file', 'default')
    .addOption(new Option('--format <format>', 'output format').choices([...FORMATS]).default('table'))
    .option('--json', 'same as --format json')
    .option('--class <class>', 'only syscalls of this class (file, process, memory, network, …)')
    .option('--disposition <d>', 'only this disposition: host, emulate, errno, kill, trace, or a full one like errno:EPERM')
    .option('--results <file>', 'conformance result file (default: .lxzone/conformance.json when it exists)')
    .action((opts: SyscallsOptions) => {
      process.stdout.write(runSyscalls(opts));
    });
}
