// Text forms of lifecycle results for the CLI (list table, uptime, sizes, stats).
import type { ZoneInfo, ZoneStatsResult } from './types.js';

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** 1536 -> "1.5KiB" (`space`: "1.5 KiB"); no value -> `none` ("-" by default). */
export function formatBytes(n: number | null | undefined, o: { none?: string; space?: boolean } = {}): string {
  if (n === null || n === undefined) return o.none ?? '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)}${o.space ? ' ' : ''}${units[i]}`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return `${rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n')}\n`;
}

export function listTable(zones: ZoneInfo[]): string {
  const rows = [['NAME', 'STATE', 'PID', 'UPTIME', 'MEMORY', 'IP']];
  for (const z of zones) {
    const mem = z.memory ? `${formatBytes(z.memory.current)}/${z.memory.max === null ? '-' : formatBytes(z.memory.max)}` : '-';
    rows.push([z.name, z.state, z.pid !== undefined ? String(z.pid) : '-', formatDuration(z.uptimeSeconds), mem, z.ipv4 ?? '-']);
  }
  return table(rows);
}

export function statsText(s: ZoneStatsResult): string {
  const lines: string[] = [`zone ${s.name}: up ${formatDuration(s.uptimeSeconds)}`];
  const u = s.usage;
  if (u) {
    const memCap = u.memory.max === null ? 'no cap' : formatBytes(u.memory.max);
    lines.push(`memory  ${formatBytes(u.memory.current)} / ${memCap}${u.memory.oomKills ? ` (${u.memory.oomKills} OOM kills)` : ''}`);
    if (u.memory.swapCurrent !== null) lines.push(`swap    ${formatBytes(u.memory.swapCurrent)} / ${u.memory.swapMax === null ? 'no cap' : formatBytes(u.memory.swapMax)}`);
    lines.push(`cpu     ${s.cpuPercent ?? 0}% / ${u.cpu.cpus === null ? 'no cap' : `${u.cpu.cpus} CPUs`} (shares ${u.cpu.shares}, ${(u.cpu.usageUsec / 1e6).toFixed(2)} s used, throttled ${u.cpu.nrThrottled}x)`);
    lines.push(`pids    ${u.pids.current} / ${u.pids.max === null ? 'no cap' : u.pids.max}`);
  } else if (s.note) {
    lines.push(s.note);
  }
  const notified = s.syscalls.notified.reduce((a, r) => a + r.count, 0);
  lines.push(`notified syscalls ${notified}, unsupported ${s.syscalls.unsupported.reduce((a, r) => a + r.count, 0)}`);
  return `${lines.join('\n')}\n`;
}
