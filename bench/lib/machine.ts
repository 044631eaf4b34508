// The machine a run was made on: numbers mean nothing without it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { notificationMode } from '../../src/zone/notification-mode.js';
import type { Machine } from './types.js';

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What systemd-detect-virt says (a container, often), and whether the CPU runs under a hypervisor. */
function virtualization(): string {
  const r = spawnSync('systemd-detect-virt', [], { encoding: 'utf8' });
  const detected = (r.stdout ?? '').trim();
  const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  const vm = ` ${flags} `.includes(' hypervisor ');
  const parts = [detected && detected !== 'none' ? detected : '', vm ? 'hypervisor guest' : ''].filter(Boolean);
  return parts.length ? parts.join(', ') : 'none detected';
}

export function describeMachine(): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    kernel: release(),
    memoryBytes: totalmem(),
    os: osName(),
    node: process.version,
    virtualization: virtualization(),
    notificationMode: notificationMode().mode,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
