/** One inference request on its way through a model's queue to a worker, and how it is answered. */
import type { ServingError } from "../errors.js";

/** A named input of a request (a form field, or `body`). */
export interface JobInput {
  name: string;
  contentType: string;
  value: Buffer;
}

/** What a worker answered for one request. */
export interface WorkerAnswer {
  status: number;
  phrase: string;
  contentType: string | null;
  headers: Record<string, string>;
  body: Buffer;
}

/** How a job's answer reaches its client: parts of a stream, the end, or an error. */
export interface JobResponder {
  partial(answer: WorkerAnswer): void;
  done(answer: WorkerAnswer): void;
  fail(error: ServingError): void;
}

/** A request waiting for, or being answered by, a worker. */
export interface InferenceJob {
  id: string;
  inputs: JobInput[];
  headers: Record<string, string>;
  /** process.hrtime.bigint() when it entered the queue */
  enqueuedAt: bigint;
  /** when a worker took it */
  scheduledAt?: bigint;
  responder: JobResponder;
}
