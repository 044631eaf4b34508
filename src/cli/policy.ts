// `lxzone policy check FILE`, `lxzone policy show PROFILE`,
// `lxzone policy import-docker FILE [-o OUT]`: the translation rules seen
// from the command line. Results on stdout, problems on stderr.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command } from 'commander';
import { LxzoneError } from '../errors.js';
import { compilePolicy } from '../policy/compile.js';
import { decodeProgram, disassemble } from '../policy/bpf.js';
import { DOCKER_DEFAULT_CAPS, importDockerProfile } from '../policy/docker.js';
import { checkProfile, resolveProfile } from '../policy/resolve.js';
import { validateProfileDoc } from '../policy/load.js';
import { isAbi } from '../tables/index.js';
import { hostAbis } from '../policy/tables.js';
import type { Condition, ResolvedProfile } from '../policy/types.js';
import type { Abi } from '../tables/types.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function parseAbi(s: string | undefined): Abi {
  if (s === undefined) return hostAbis()[0]!;
  if (!isAbi(s)) throw new LxzoneError(`--abi: unknown ABI "${s}" (x86_64, i386, aarch64)`, { exitCode: 2 });
  return s;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LxzoneError(`${file}: cannot read: ${(err as Error).message}`, { where: file });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LxzoneError(`${file}: not valid JSON: ${(err as Error).message}`, { where: file });
  }
}

const isDocker = (doc: unknown): boolean => typeof doc === 'object' && doc !== null && 'defaultAction' in doc;

function conditionText(c: Condition): string {
  const v = `0x${c.value.toString(16)}`;
  const w = c.width === 32 ? ' (32-bit)' : '';
  return c.op === 'masked_eq' ? `arg${c.arg} & 0x${c.mask.toString(16)} == ${v}${w}` : `arg${c.arg} ${c.op} ${v}${w}`;
}

function showText(p: ResolvedProfile): string {
  const lines = [`profile ${p.profile}, ${p.abi} (unknown numbers: ${p.unsupported === 'sigsys' ? 'SIGSYS' : 'ENOSYS'})`];
  for (const s of p.syscalls) {
    const why = s.reason ? `  [${s.reason}] ${s.note ?? ''}` : s.note ? `  ${s.note}` : '';
    lines.push(`${String(s.nr).padStart(4)} ${s.name.padEnd(24)} ${s.disposition}${s.conditional ? ' (otherwise)' : ''}${why}`);
    for (const r of s.rules) {
      lines.push(`${' '.repeat(30)}if ${r.when.map(conditionText).join(' && ')} -> ${r.disposition}${r.reason ? `  [${r.reason}] ${r.note ?? ''}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A resolved profile as JSON: 64-bit values as hex strings; `action` (the parsed disposition) is internal. */
function toJson(v: unknown): string {
  return JSON.stringify(v, (k, x) => (k === 'action' ? undefined : typeof x === 'bigint' ? `0x${x.toString(16)}` : x), 2);
}

export function register(program: Command): void {
  const policy = program.command('policy').description('Check, show and import syscall translation rules (profiles)');

  policy.command('check')
    .description('Check a rules file (or a Docker/OCI seccomp profile) against every syscall table')
    .argument('<file>', 'rules file (syscall-tables/rules format) or Docker seccomp JSON')
    .option('--json', 'print {"ok": bool, "problems": [...], "report": [...]}')
    .action((file: string, flags: { json?: boolean }) => {
      const doc = readJson(file);
      let problems: string[];
      let report: string[] = [];
      if (isDocker(doc)) {
        const imported = importDockerProfile(doc, { file, name: 'imported' });
        report = imported.report;
        problems = checkProfile(imported.profile);
      } else {
        try {
          problems = checkProfile(validateProfileDoc(doc, file));
        } catch (err) {
          if (!(err instanceof LxzoneError)) throw err;
          problems = [err.message];
        }
        // Messages name the file on disk, not the in-memory label.
        problems = problems.map((p) => p.replaceAll(/<profile [^>]*>/g, file));
      }
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ok: problems.length === 0, problems, report }, null, 2)}\n`);
      } else {
        for (const r of report) process.stderr.write(`lxzone: note: ${r}\n`);
        for (const p of problems) process.stderr.write(`lxzone: ${p}\n`);
        if (problems.length === 0) process.stdout.write(`${file}: ok\n`);
      }
      if (problems.length) process.exitCode = 1;
    });

  policy.command('show')
    .description('Show what a profile decides for every syscall of an ABI')
    .argument('<profile>', 'profile name (default, strict, permissive, trace) or rules file')
    .option('--abi <abi>', 'x86_64, i386 or aarch64 (default: the host\'s)')
    .option('--allow-nesting', 'as for a zone that allows nested user namespaces')
    .option('--net-raw', 'as for a zone that holds CAP_NET_RAW')
    .option('--json', 'the resolved profile as JSON')
    .option('--bpf', 'the compiled filter (for the host\'s ABIs) instead, disassembled')
    .action((profile: string, flags: { abi?: string; allowNesting?: boolean; netRaw?: boolean; json?: boolean; bpf?: boolean }) => {
      const allowNesting = flags.allowNesting ?? false;
      const netRaw = flags.netRaw ?? false;
      if (flags.bpf) {
        const abis = flags.abi ? [parseAbi(flags.abi)] : hostAbis();
        const c = compilePolicy({ profile, abis, allowNesting, netRaw });
        const lines = disassemble(decodeProgram(c.bpf));
        if (flags.json) process.stdout.write(`${JSON.stringify({ abis, instructions: c.instructions, program: lines }, null, 2)}\n`);
        else process.stdout.write(`${lines.join('\n')}\n; ${c.instructions} instructions for ${abis.join(', ')}\n`);
        return;
      }
      const resolved = resolveProfile(profile, parseAbi(flags.abi), { allowNesting, netRaw });
      process.stdout.write(flags.json ? `${toJson(resolved)}\n` : showText(resolved));
    });

  policy.command('compile')
    .description('Write the compiled filter (struct sock_filter[]) and dispatch table as files')
    .argument('<profile>', 'profile name or rules file')
    .requiredOption('-o, --output <file>', 'BPF program bytes')
    .option('--dispatch <file>', 'dispatch table bytes (native/supervisor/dispatch.h)')
    .option('--abi <abi>', 'one ABI instead of the host\'s', collect, [])
    .option('--allow-nesting', 'as for a zone that allows nested user namespaces')
    .option('--net-raw', 'as for a zone that holds CAP_NET_RAW')
    .option('--json', 'print {"instructions", "abis", "bpfBytes", "dispatchBytes"}')
    .action((profile: string, flags: { output: string; dispatch?: string; abi: string[]; allowNesting?: boolean; netRaw?: boolean; json?: boolean }) => {
      const abis = flags.abi.length ? flags.abi.map(parseAbi) : hostAbis();
      const c = compilePolicy({ profile, abis, allowNesting: flags.allowNesting ?? false, netRaw: flags.netRaw ?? false });
      writeFileSync(flags.output, c.bpf);
      if (flags.dispatch) writeFileSync(flags.dispatch, c.dispatch);
      const summary = { instructions: c.instructions, abis, bpfBytes: c.bpf.length, dispatchBytes: c.dispatch.length };
      process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : `${flags.output}: ${c.instructions} instructions for ${abis.join(', ')}\n`);
    });

  policy.command('import-docker')
    .description('Convert a Docker/OCI seccomp profile into an lxzone rules file')
    .argument('<file>', 'Docker seccomp profile (JSON)')
    .option('-o, --output <file>', 'write the rules file here (default: stdout)')
    .option('--name <name>', 'profile name (default: from the file name)')
    .option('--cap <cap>', 'a capability the zone will have, for includes/excludes.caps (repeatable)', collect, [])
    .option('--no-default-caps', `do not assume Docker's default capabilities (${DOCKER_DEFAULT_CAPS.length} of them)`)
    .option('--kernel <version>', 'kernel version for includes.minKernel (default: the running kernel)')
    .action((file: string, flags: { output?: string; name?: string; cap: string[]; defaultCaps: boolean; kernel?: string }) => {
      const doc = readJson(file);
      const name = flags.name ?? (basename(file).replace(/\.json$/, '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z]+/, '') || 'imported');
      const caps = [...(flags.defaultCaps ? DOCKER_DEFAULT_CAPS : []), ...flags.cap.map((c) => (c.startsWith('CAP_') ? c : `CAP_${c}`).toUpperCase())];
      const { profile, report } = importDockerProfile(doc, { file, name, caps, kernel: flags.kernel });
      for (const r of report) process.stderr.write(`lxzone: note: ${r}\n`);
      const problems = checkProfile(profile);
      for (const p of problems) process.stderr.write(`lxzone: ${p}\n`);
      const text = `${JSON.stringify(profile, null, 2)}\n`;
      if (flags.output) writeFileSync(flags.output, text);
      else process.stdout.write(text);
      if (problems.length) process.exitCode = 1;
    });
}
