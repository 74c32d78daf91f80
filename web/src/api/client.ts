/**
 * Calls to the Capstan API: JSON in and out, the session cookie sent by the browser, and the
 * session's CSRF token on every request that changes something. Errors carry the API's code,
 * message and details.
 */

let csrfToken: string | undefined;

/** Remembers the CSRF token of the signed-in session (from sign-in and /api/auth/me). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** An answer other than 2xx, with the API's error body. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Listeners told when the API says the session is gone (401). */
const unauthenticatedListeners = new Set<() => void>();
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

export async function api<T>(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const response = await fetch(path, { method, headers, credentials: "same-origin", ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let payload: unknown;
  try {
    payload = text === "" ? undefined : JSON.parse(text);
  } catch {
    payload = undefined;
  }
  if (!response.ok) {
    const error = (payload as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    if (response.status === 401 && !path.startsWith("/api/auth/login")) for (const listener of unauthenticatedListeners) listener();
    throw new ApiError(response.status, error?.code ?? "http_error", error?.message ?? `HTTP ${response.status}`, error?.details);
  }
  return payload as T;
}

/** Encodes one path segment. */
export const seg = (value: string) => encodeURIComponent(value);
