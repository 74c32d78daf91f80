/** Requests to the storage API with the CLI's token: JSON calls, and raw ones for transfers; errors become ClientErrors with the server's message. */
import { ClientError } from "../errors.js";

export interface ApiTarget {
  baseUrl: string;
  token: string | undefined;
}

/** Sends a request; network failures become a ClientError naming the server. */
export async function send(target: ApiTarget, method: string, path: string, init: { headers?: Record<string, string>; body?: NonNullable<RequestInit["body"]>; duplex?: boolean } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  try {
    return await fetch(new URL(path, target.baseUrl), {
      method,
      headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
      // A stream body must say so (undici); the request then flows as the stream is read.
      ...(init.duplex ? ({ duplex: "half" } as object) : {}),
    });
  } catch (error) {
    throw new ClientError(`cannot reach the Capstan server at ${target.baseUrl}: ${(error as Error).message}`, 1);
  }
}

/** A refusal of the server, with its HTTP status (a 404 tells "does not exist" from other refusals). */
export class AnswerError extends ClientError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message, status >= 500 ? 1 : 2);
  }
}

/** True when `error` is the server saying that something does not exist. */
export function isNotFound(error: unknown): boolean {
  return error instanceof AnswerError && error.status === 404;
}

/** The error a non-2xx answer stands for: the server's message, exit code 2 for a refusal and 1 for a server failure. */
export async function answerError(response: Response, fallback: string): Promise<AnswerError> {
  const text = await response.text().catch(() => "");
  let message: string | undefined;
  try {
    message = (JSON.parse(text) as { error?: { message?: string } }).error?.message;
  } catch {
    // The tus endpoint answers refusals in plain text.
    message = text.trim() !== "" && text.length < 2000 ? text.trim() : undefined;
  }
  if (response.status === 404 && message === undefined) message = `${fallback}: not found (HTTP 404; is the server's storage API there?)`;
  return new AnswerError(message ?? `${fallback}: HTTP ${response.status}`, response.status);
}

/** A JSON call: the parsed answer, undefined for 204. */
export async function callJson<T>(target: ApiTarget, method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(target, method, path, {
    headers: { accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw await answerError(response, `${method} ${path.split("?")[0] ?? path}`);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  try {
    return (text === "" ? undefined : JSON.parse(text)) as T;
  } catch {
    throw new ClientError(`the server at ${target.baseUrl} answered ${response.status} with a body that is not JSON`, 1);
  }
}
