// The portal's JSON API: every action is a call of the lifecycle's API
// (src/zone/lifecycle/api.ts), the one the CLI uses; nothing here changes a
// zone by itself. GETs read; everything else needs the session's CSRF token
// and a same-origin request (server.ts checks both before calling these).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runSyscalls } from '../../cli/syscalls.js';
import { LxzoneError } from '../../errors.js';
import { ABIS, loadTable } from '../../tables/index.js';
import type { Abi } from '../../tables/types.js';
import type { SyscallCount, ZoneStats } from '../../zone/stats.js';
import * as api from '../../zone/lifecycle/api.js';
import type { ResourceChanges } from '../../zone/lifecycle/api.js';
import type { ZoneConfig } from '../../zone/config/types.js';
import type { UnsupportedEvent } from '../../zone/lifecycle/unsupported-log.js';
import { HttpError, readJson, sendJson, zoneName } from './http-util.js';
import { streamLogs } from './streams.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;
export interface Route {
  method: string;
  path: RegExp;
  /** State-changing: CSRF token and same-origin required. */
  changes: boolean;
  handle: Handler;
}

const HIDDEN = '(hidden: reveal to show)';
const PROFILES = ['default', 'strict', 'permissive', 'trace'];
const RESOURCE_KEYS = ['memoryBytes', 'swapBytes', 'cpus', 'cpuShares', 'pidsMax', 'diskBytes'] as const;

/** A zone's details with its environment's values hidden (a zone's env often holds secrets). */
function redacted<T extends { config?: ZoneConfig }>(d: T): T {
  if (!d.config?.env) return d;
  return { ...d, config: { ...d.config, env: Object.fromEntries(Object.keys(d.config.env).map((k) => [k, HIDDEN])) } };
}

/** Counters and events name their syscalls (the supervisor counts numbers per ABI). */
function named<T extends { syscalls?: ZoneStats; unsupportedEvents?: UnsupportedEvent[] }>(d: T): T {
  const name = (abi: string, nr: number): string | undefined => {
    try {
      return loadTable(abi as Abi).syscalls.find((s) => s.nr === nr)?.name;
    } catch {
      return undefined; // an ABI without a table here: the number says enough
    }
  };
  const rows = <R extends { abi: string; nr: number }>(r: R[]) => r.map((c) => ({ ...c, name: name(c.abi, c.nr) }));
  return {
    ...d,
    ...(d.syscalls ? { syscalls: { ...d.syscalls, notified: rows(d.syscalls.notified), unsupported: rows(d.syscalls.unsupported) } } : {}),
    ...(d.unsupportedEvents ? { unsupportedEvents: rows(d.unsupportedEvents) } : {}),
  };
}

function resourceChanges(body: Record<string, unknown>): ResourceChanges {
  const out: Record<string, number | null> = {};
  for (const k of RESOURCE_KEYS) {
    const v = body[k];
    if (v === undefined) continue;
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw new HttpError(400, `${k} must be a number >= 0 or null (no cap)`);
    out[k] = v;
  }
  if (Object.keys(out).length === 0) throw new HttpError(400, `nothing to update: give one of ${RESOURCE_KEYS.join(', ')}`);
  return out as ResourceChanges;
}

/** The create form: an image archive on the host, the host's root, or another zone's config as a template. */
async function createConfig(body: Record<string, unknown>, o: api.ApiOptions): Promise<Partial<ZoneConfig>> {
  const name = typeof body.name === 'string' ? body.name : '';
  let cfg: Partial<ZoneConfig>;
  if (typeof body.template === 'string' && body.template !== '') {
    const t = await api.inspectZone(zoneName(body.template), o);
    if (!t.config) throw new HttpError(409, `zone ${body.template}'s configuration cannot be read`);
    const { network, ...rest } = t.config;
    // Its own address: a template's static one would clash.
    cfg = { ...rest, name, hostname: name, ...(network ? { network: { mode: network.mode } } : {}) };
  } else if (typeof body.image === 'string' && body.image !== '') {
    if (!body.image.startsWith('/')) throw new HttpError(400, 'image must be an absolute path of an archive on the host');
    cfg = { name, rootfs: { type: 'image', path: body.image } };
  } else {
    cfg = { name, rootfs: { type: 'host' } };
  }
  if (Array.isArray(body.command) && body.command.length > 0) {
    if (!body.command.every((a) => typeof a === 'string')) throw new HttpError(400, 'command must be a list of strings');
    cfg.command = body.command as string[];
  }
  const res = RESOURCE_KEYS.filter((k) => typeof body[k] === 'number');
  if (res.length) cfg.resources = { ...(cfg.resources ?? {}), ...Object.fromEntries(res.map((k) => [k, body[k]])) };
  return cfg;
}

export function apiRoutes(o: api.ApiOptions): Route[] {
  const r = (method: string, path: string, changes: boolean, handle: Handler): Route => ({ method, path: new RegExp(`^${path}$`), changes, handle });
  const Z = '/api/zones/([^/]+)';
  return [
    r('GET', '/api/zones', false, async (_q, res) => sendJson(res, 200, await api.listZones(o))),
    r('POST', '/api/zones', true, async (req, res) => {
      const body = await readJson(req);
      const created = await api.createZone(await createConfig(body, o), o);
      if (body.boot === true) await api.bootZone(created.config.name, o);
      sendJson(res, 201, { name: created.config.name, warnings: created.warnings });
    }),
    r('GET', Z, false, async (_q, res, [n]) => sendJson(res, 200, named(redacted(await api.inspectZone(zoneName(n!), o))))),
    r('POST', `${Z}/env`, true, async (_q, res, [n]) => {
      // The explicit reveal: a POST (CSRF-checked), never part of a page load.
      const d = await api.inspectZone(zoneName(n!), o);
      sendJson(res, 200, d.config?.env ?? {});
    }),
    r('GET', `${Z}/stats`, false, async (_q, res, [n]) => sendJson(res, 200, named(await api.zoneStats(zoneName(n!), o)))),
    r('POST', `${Z}/boot`, true, async (_q, res, [n]) => sendJson(res, 200, await api.bootZone(zoneName(n!), o))),
    r('POST', `${Z}/halt`, true, async (_q, res, [n]) => sendJson(res, 200, await api.haltZone(zoneName(n!), o))),
    r('POST', `${Z}/reboot`, true, async (_q, res, [n]) => sendJson(res, 200, await api.rebootZone(zoneName(n!), o))),
    r('DELETE', Z, true, async (req, res, [n]) => {
      const body = await readJson(req);
      sendJson(res, 200, await api.destroyZone(zoneName(n!), { ...o, force: body.force === true }));
    }),
    r('PATCH', `${Z}/caps`, true, async (req, res, [n]) => sendJson(res, 200, redacted(await api.updateZone(zoneName(n!), resourceChanges(await readJson(req)), o)))),
    r('GET', `${Z}/logs`, false, async (req, res, [n], url) => streamLogs(req, res, zoneName(n!), url, o)),
    r('GET', '/api/syscalls', false, async (_q, res, _p, url) => {
      const abi = url.searchParams.get('abi') ?? undefined;
      const profile = url.searchParams.get('profile') ?? 'default';
      if (abi !== undefined && !(ABIS as readonly string[]).includes(abi)) throw new HttpError(400, `unknown ABI ${JSON.stringify(abi)}`);
      // Named profiles only: a rules-file path would let the portal read host files.
      if (!PROFILES.includes(profile)) throw new LxzoneError(`unknown profile ${JSON.stringify(profile)} (one of ${PROFILES.join(', ')})`, { code: 'EINVAL', exitCode: 2 });
      const text = runSyscalls({ abi, profile, format: 'json' });
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(text);
    }),
  ];
}
