// The coverage report model, its four formats and `lxzone syscalls`, with
// the real tables and the real rules (src/policy's resolveProfile).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildReport, formatCsv, formatJson, formatMarkdown, formatTable, summaryLine } from '../src/coverage/index.js';
import { readResults } from '../src/coverage/results.js';
import { runSyscalls } from '../src/cli/syscalls.js';
import { main } from '../src/cli/main.js';
import { resolveProfile } from '../src/policy/index.js';
import { ABIS, loadTable } from '../src/tables/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'lxzone-coverage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(ABIS)('report for %s, default profile', (abi) => {
  const rep = buildReport({ abi, profile: 'default' });
  const resolved = resolveProfile('default', abi);

  it('has one row per syscall of the table, in number order, with the policy decision', () => {
    const table = loadTable(abi);
    expect(rep.rows.map((r) => r.nr)).toEqual(table.syscalls.map((s) => s.nr));
    const byNr = new Map(resolved.syscalls.map((s) => [s.nr, s]));
    for (const r of rep.rows) {
      expect(r.disposition, r.name).toBe(byNr.get(r.nr)!.disposition);
      expect(r.conditional, r.name).toBe(byNr.get(r.nr)!.conditional);
      if (r.disposition !== 'host') expect(r.reason && r.note, `${r.name} has a reason and a note`).toBeTruthy();
      expect(r.exercised).toBeUndefined();
    }
  });

  it('counts every row exactly once in the summary', () => {
    const s = rep.summary;
    expect(s.total).toBe(rep.rows.length);
    expect(s.host + s.emulated + s.refused + s.kill + s.trace).toBe(s.total);
    expect(s.host).toBe(rep.rows.filter((r) => r.disposition === 'host').length);
    expect(s.emulated).toBe(rep.rows.filter((r) => r.disposition.startsWith('emulate:')).length);
    expect(s.exercised).toBeUndefined();
  });
});

describe('filters', () => {
  it('--class keeps only that class', () => {
    const rep = buildReport({ abi: 'x86_64', class: 'namespace' });
    expect(rep.rows.length).toBeGreaterThan(5);
    expect(new Set(rep.rows.map((r) => r.class))).toEqual(new Set(['namespace']));
    expect(rep.rows.map((r) => r.name)).toContain('setns');
  });
  it('--disposition takes a kind or a full disposition', () => {
    const errno = buildReport({ abi: 'x86_64', disposition: 'errno' });
    expect(errno.rows.length).toBeGreaterThan(0);
    expect(errno.rows.every((r) => r.disposition.startsWith('errno:'))).toBe(true);
    const one = errno.rows[0]!.disposition;
    const exact = buildReport({ abi: 'x86_64', disposition: one });
    expect(exact.rows.every((r) => r.disposition === one)).toBe(true);
    expect(exact.summary.refused).toBe(exact.rows.length);
  });
  it('refuses an unknown class or disposition as a usage error', () => {
    expect(() => buildReport({ abi: 'x86_64', class: 'misc' })).toThrow(/unknown class "misc"/);
    expect(() => buildReport({ abi: 'x86_64', disposition: 'allow' })).toThrow(/unknown disposition "allow"/);
    // A whole disposition is parsed as the profiles' are: a known kind with an unknown handler or errno is refused too.
    expect(() => buildReport({ abi: 'x86_64', disposition: 'emulate:nosuch' })).toThrow(/unknown handler "nosuch"/);
    expect(() => buildReport({ abi: 'x86_64', disposition: 'errno:ENOTANERRNO' })).toThrow(/unknown errno "ENOTANERRNO"/);
  });
});

describe('conformance results', () => {
  const file = join(tmp, 'conformance.json');
  writeFileSync(file, JSON.stringify({
    version: 1,
    syscalls: { x86_64: { read: { exercised: true, passed: true }, uname: { exercised: true, passed: false } } },
  }));

  it('fill the exercised and passed columns and the summary', () => {
    const { results, path } = readResults(file);
    const rep = buildReport({ abi: 'x86_64', results, resultsPath: path });
    const row = (n: string) => rep.rows.find((r) => r.name === n)!;
    expect(row('read')).toMatchObject({ exercised: true, passed: true });
    expect(row('uname')).toMatchObject({ exercised: true, passed: false });
    expect(row('write').exercised).toBe(false);
    expect(row('write').passed).toBeUndefined();
    expect(rep.summary).toMatchObject({ exercised: 2, passed: 1 });
    expect(summaryLine(rep.summary)).toMatch(/; 2 exercised, 1 passed$/);
    expect(formatTable(rep)).toMatch(/\n\s*0 {2}read +io +host .*yes +yes/);
  });
  it('for another ABI mean "not exercised" there', () => {
    const { results } = readResults(file);
    const rep = buildReport({ abi: 'i386', results });
    expect(rep.summary.exercised).toBe(0);
  });
  it('must exist when named, and must have the agreed shape', () => {
    expect(() => readResults(join(tmp, 'none.json'))).toThrow(/none\.json: no such conformance result file/);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 2, syscalls: {} }));
    expect(() => readResults(bad)).toThrow(/bad\.json: not a conformance result file: \/version must be equal to constant/);
    writeFileSync(bad, JSON.stringify({ version: 1, syscalls: { x32: {} } }));
    expect(() => readResults(bad)).toThrow(/not a conformance result file/);
  });
});

describe('formats', () => {
  const rep = buildReport({ abi: 'x86_64' });
  it('table: header, one line per syscall, summary last', () => {
    const lines = formatTable(rep).trimEnd().split('\n');
    expect(lines[0]).toBe('x86_64 syscalls, profile default, no conformance results');
    expect(lines[2]).toMatch(/^ *nr {2}name +class +disposition +args +reason +exercised +passed +note$/);
    expect(lines.length).toBe(rep.rows.length + 5);
    expect(lines.at(-1)).toBe(summaryLine(rep.summary));
    expect(lines.at(-1)).toMatch(/^of \d+ syscalls: \d+ host, \d+ emulated, \d+ refused, \d+ kill, \d+ trace/);
  });
  it('json: the report itself', () => {
    expect(JSON.parse(formatJson(rep))).toEqual(JSON.parse(JSON.stringify(rep)));
  });
  it('csv: RFC 4180 quoting that a parser reads back', () => {
    const text = formatCsv(rep);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['nr', 'name', 'class', 'disposition', 'conditional', 'reason', 'exercised', 'passed', 'note']);
    expect(rows.length).toBe(rep.rows.length + 1);
    rep.rows.forEach((r, i) => expect(rows[i + 1]![8], r.name).toBe(r.note ?? ''));
  });
  it('markdown: a table row per syscall, pipes escaped', () => {
    const md = formatMarkdown(rep);
    const body = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| nr'));
    expect(body.length).toBe(rep.rows.length);
    for (const l of body) expect(l.replace(/\\\|/g, '').split('|').length).toBe(11);
  });
});

describe('lxzone syscalls', () => {
  it('prints the host ABI\'s table by default and JSON with --json', () => {
    expect(runSyscalls({ profile: 'default', format: 'table' })).toMatch(/^x86_64 syscalls, profile default/);
    const json = JSON.parse(runSyscalls({ abi: 'aarch64', profile: 'default', format: 'table', json: true }));
    expect(json.abi).toBe('aarch64');
    expect(json.rows.find((r: { name: string }) => r.name === 'openat').nr).toBe(56);
  });
  it('exits 2 on a usage error, 1 on a missing result file, 0 otherwise', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const run = async (...args: string[]) => {
        process.exitCode = 0;
        await main(['node', 'lxzone', 'syscalls', ...args]);
        const code = process.exitCode;
        process.exitCode = 0;
        return code;
      };
      expect(await run('--abi', 'x32')).toBe(2);
      expect(await run('--class', 'misc')).toBe(2);
      expect(await run('--results', join(tmp, 'missing.json'))).toBe(1);
      expect(await run('--abi', 'i386', '--format', 'csv', '--disposition', 'host')).toBe(0);
      const printed = out.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toMatch(/^nr,name,class,disposition/m);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/missing\.json: no such conformance result file/);
    } finally {
      err.mockRestore();
      out.mockRestore();
    }
  });
});

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\r') { /* CRLF */ } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else field += c;
  }
  return rows;
}
