/**
 * Calls to the server's public APIs (/v1, /admin, /v2 repository and statistics, /metrics) on the
 * page's own origin. Credentials travel only in the HttpOnly session cookie; state-changing calls
 * add the session's CSRF token, which lives in this module's memory (never in storage).
 */
export interface KeyInfo {
  id: string;
  prefix: string;
  name: string;
  owner: string | null;
  plan: string;
  scopes: string[] | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  rotatedFrom: string | null;
  last_used_at?: string | null;
  current?: boolean;
}

export interface SessionInfo {
  auth: 'on' | 'off';
  admin_api: boolean;
  signed_in: boolean;
  kind?: 'customer' | 'admin';
  csrf_token?: string;
  key?: KeyInfo;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

let csrf: string | undefined;

export function setCsrf(token: string | undefined): void {
  csrf = token;
}

export async function call<T>(method: string, path: string, body?: BodyInit | object): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let payload: BodyInit | undefined;
  if (body instanceof FormData || typeof body === 'string') payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { detail: text };
  }
  if (!res.ok) {
    const p = json as { code?: string; detail?: string; error?: string; request_id?: string };
    throw new ApiError(
      res.status,
      p.code ?? String(res.status),
      p.detail ?? p.error ?? res.statusText,
      p.request_id ?? res.headers.get('x-request-id') ?? undefined,
    );
  }
  return json as T;
}

export async function text(path: string): Promise<string> {
  const res = await fetch(path, { credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, String(res.status), res.statusText);
  return res.text();
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    return `${err.message} (${err.code}${err.requestId ? `, request ${err.requestId}` : ''})`;
  }
  return err instanceof Error ? err.message : String(err);
}
