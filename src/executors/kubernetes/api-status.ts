/** What an API server's error answer says: its HTTP code, its Status message, reason and kind. */

export interface ApiStatus {
  code: number | undefined;
  message: string;
  reason: string | undefined;
  kind: string | undefined;
}

/** The message of an API server's Status answer, or the error's own. */
export function apiStatus(error: unknown): ApiStatus {
  const e = error as { code?: unknown; body?: unknown; message?: string };
  const code = typeof e.code === "number" ? e.code : undefined;
  let body: { message?: string; reason?: string; details?: { kind?: string } } | undefined;
  if (typeof e.body === "string") {
    try {
      body = JSON.parse(e.body) as typeof body;
    } catch {
      body = undefined;
    }
  } else if (e.body && typeof e.body === "object") {
    body = e.body;
  }
  const cause = (e as { cause?: { message?: string } }).cause?.message;
  return { code, message: body?.message ?? cause ?? e.message ?? String(error), reason: body?.reason, kind: body?.details?.kind };
}
