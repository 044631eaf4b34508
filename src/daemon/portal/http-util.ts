// Small HTTP helpers of the portal: security headers, JSON in and out, and
// errors as lxzone's own (message, code) without a stack.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asLxzoneError, LxzoneError } from '../../errors.js';
import { NAME_PATTERN } from '../../zone/config/schema.js';

/**
 * No inline script anywhere (script-src 'self'); styles may be set inline
 * because xterm.js writes its measured cell sizes into a <style> element.
 * Nothing may frame the portal, and it loads nothing from elsewhere.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}

/** lxzone's errors keep their message and code; a defect says only that it is one. */
export function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message });
  const lx = asLxzoneError(e);
  if (lx) {
    const status = lx.code === 'ENOENT' ? 404 : lx.exitCode === 2 || lx.code === 'EINVAL' ? 400 : lx.code === 'EBUSY' || lx.code === 'ESRCH' ? 409 : 500;
    return sendJson(res, status, { error: lx.message, ...(lx.code ? { code: lx.code } : {}) });
  }
  process.stderr.write(`lxzone portal: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  sendJson(res, 500, { error: `internal error: ${(e as Error)?.message ?? String(e)}` });
}

const MAX_BODY = 1024 * 1024;

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  // application/json only: a cross-site <form> cannot send it without a preflight.
  if (!type.startsWith('application/json')) throw new HttpError(415, 'the body must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'the body must be a JSON object');
  return v as Record<string, unknown>;
}

/** A zone name from a URL: validated by the store anyway; refused early if it cannot be one. */
export function zoneName(s: string): string {
  const n = decodeURIComponent(s);
  if (!new RegExp(NAME_PATTERN).test(n) || n.includes('..')) throw new LxzoneError(`invalid zone name ${JSON.stringify(n)}`, { code: 'EINVAL', exitCode: 2 });
  return n;
}
