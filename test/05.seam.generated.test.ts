// One source per fact that crosses the native seam (issue 13): handler ids,
// control-message numbers, event names and ABI -> AUDIT_ARCH values live in
// seam/facts.json; scripts/gen-seam.mjs writes the C++ header and the TS
// module. A hand edit of either, or a data change not regenerated, fails here.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, no declarations
import { launchDescriptionVersion, render, renderHeader, SEAM_OUTPUTS } from '../scripts/gen-seam.mjs';
import { native, NATIVE_EVENT_TYPES } from '../src/native.js';
import { LAUNCH_DESCRIPTION_VERSION } from '../src/seam.generated.js';
import { HANDLERS } from '../src/policy/handlers.js';
import { AUDIT_ARCH } from '../src/tables/index.js';
import { decodeEvent } from '../src/zone/events.js';
import { repoRoot } from './support/zones.js';

const facts = JSON.parse(readFileSync(join(repoRoot, 'seam/facts.json'), 'utf8'));

describe('seam/facts.json', () => {
  it('is what native/common/seam.generated.h and src/seam.generated.ts say', () => {
    const want = render();
    expect(readFileSync(SEAM_OUTPUTS.header, 'utf8')).toBe(want.header);
    expect(readFileSync(SEAM_OUTPUTS.module, 'utf8')).toBe(want.module);
    const check = spawnSync(process.execPath, [join(repoRoot, 'scripts/gen-seam.mjs'), '--check'], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('feeds the TypeScript side', () => {
    expect([...HANDLERS]).toEqual(facts.handlers.map((h: { name: string }) => h.name));
    expect([...NATIVE_EVENT_TYPES]).toEqual(facts.events.map((e: { name: string }) => e.name));
    for (const a of facts.abis) expect(AUDIT_ARCH[a.name as keyof typeof AUDIT_ARCH]).toEqual({ name: a.auditArch, value: Number(a.value) });
  });

  it('feeds the addon that was built (its handler table is in the same order)', () => {
    expect(native().handlerNames()).toEqual([...HANDLERS]);
  });

  it('a reordered handler list changes the ids the header gives', () => {
    const swapped = { ...facts, handlers: [facts.handlers[1], facts.handlers[0], ...facts.handlers.slice(2)] };
    expect(renderHeader(swapped)).toContain('constexpr uint8_t kHandlerTrace = 0;');
    expect(renderHeader(swapped)).not.toBe(readFileSync(SEAM_OUTPUTS.header, 'utf8'));
  });

  it('a launch description\'s version is the facts\' digest: another key or id changes it, a note does not', () => {
    expect(LAUNCH_DESCRIPTION_VERSION).toBe(launchDescriptionVersion(facts));
    expect(renderHeader(facts)).toContain(`kLaunchDescriptionVersion = "${LAUNCH_DESCRIPTION_VERSION}"`);
    const withoutUtsFilter = { ...facts, shimConfig: facts.shimConfig.filter((k: { name: string }) => k.name !== 'uts-server-filter') };
    const swapped = { ...facts, handlers: [facts.handlers[1], facts.handlers[0], ...facts.handlers.slice(2)] };
    const renoted = { ...facts, handlers: facts.handlers.map((h: { note: string }) => ({ ...h, note: `${h.note}.` })) };
    expect(launchDescriptionVersion(withoutUtsFilter)).not.toBe(LAUNCH_DESCRIPTION_VERSION);
    expect(launchDescriptionVersion(swapped)).not.toBe(LAUNCH_DESCRIPTION_VERSION);
    expect(launchDescriptionVersion(renoted)).toBe(LAUNCH_DESCRIPTION_VERSION);
  });

  it('every event type the addon names is decoded into the typed union, once', () => {
    for (const type of NATIVE_EVENT_TYPES) {
      const ev = decodeEvent({ zone: 3, type, a: 1, b: 256, text: 'x', pid: 7, nr: 63, abi: 'x86_64', args: [1n, 0n, 0n, 0n, 0n, 0n], id: 9n });
      expect(ev, type).toMatchObject({ zone: 3, type });
    }
    expect(decodeEvent({ zone: 1, type: 'exited', a: 3, b: 768 })).toEqual({ zone: 1, type: 'exited', exitCode: 3, waitStatus: 768 });
    expect(decodeEvent({ zone: 1, type: 'reboot', a: 1, b: 0, pid: 5, nr: 169, abi: 'x86_64', args: [], id: 2n })).toMatchObject({ action: 'restart', pid: 5, nr: 169 });
    expect(decodeEvent({ zone: 1, type: 'trace', a: 0, b: 0, text: '\x1f/etc/passwd', pid: 5, nr: 257, abi: 'x86_64', args: [], id: 0n })).toMatchObject({ strings: [undefined, '/etc/passwd'] });
  });
});
