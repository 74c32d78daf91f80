/**
 * Executes one code cell as nbclient does: an execute_request, outputs gathered from IOPub until
 * the kernel goes idle, the reply awaited under the execution timeout, and the kernel's death
 * noticed at once (after taking in the outputs it sent before dying).
 */
import { CellTimeoutError, KernelDiedError } from "../errors.js";
import type { KernelHandle } from "../kernel/kernel-handle.js";
import { describeExit } from "../kernel/kernel-process.js";
import type { KernelMessage } from "../kernel/session.js";
import { cellTags, type CodeCell } from "../nbformat/notebook.js";
import { messageTimestamp } from "./clock.js";
import type { NotebookSaver } from "./notebook-saver.js";
import type { OutputTracker } from "./output-tracker.js";

/** What a cell's execution came to. */
export type CellResult = "ok" | "error";

/** What a cell needs to run. */
export interface CellContext {
  kernel: KernelHandle;
  tracker: OutputTracker;
  saver: NotebookSaver;
  /** seconds a cell may run; undefined for no limit */
  executionTimeoutSeconds?: number | undefined;
  /** how long to wait for IOPub to go idle after the reply (nbclient's iopub_timeout, 4 s) */
  iopubTimeoutMs?: number;
}

type Race<T> = { kind: "value"; value: T } | { kind: "timeout" } | { kind: "death" };

function race<T>(kernel: KernelHandle, promise: Promise<T>, timeoutMs: number | undefined): Promise<Race<T>> {
  let timer: NodeJS.Timeout | undefined;
  const candidates: Promise<Race<T>>[] = [
    promise.then((value) => ({ kind: "value", value }) as const),
    kernel.process.exited.then(() => ({ kind: "death" }) as const),
  ];
  if (timeoutMs !== undefined) {
    candidates.push(
      new Promise((resolve) => {
        timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
      }),
    );
  }
  return Promise.race(candidates).finally(() => clearTimeout(timer));
}

/** Waits until no IOPub message came for `quietMs` (at most `maxMs`). */
async function drain(kernel: KernelHandle, quietMs: number, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  let last = kernel.client.iopubCount;
  while (Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    if (kernel.client.iopubCount === last) {
      return;
    }
    last = kernel.client.iopubCount;
  }
}

/**
 * Runs a code cell. Resolves "error" when the cell raised and is not tagged `raises-exception`;
 * throws {@link CellTimeoutError} or {@link KernelDiedError}.
 */
export async function executeCodeCell(context: CellContext, cell: CodeCell, cellIndex: number): Promise<CellResult> {
  const { kernel, tracker, saver } = context;
  const allowErrors = cellTags(cell).includes("raises-exception");
  cell.metadata["execution"] = {};
  cell.outputs = [];
  tracker.beginCell();
  saver.changed(cell);
  let markIdle = (): void => undefined;
  const idle = new Promise<void>((resolve) => {
    markIdle = resolve;
  });
  const onIopub = (message: KernelMessage): void => {
    if (tracker.process(message, cell, cellIndex)) {
      markIdle();
    }
    saver.autosave();
  };
  const { msgId, reply } = kernel.client.request(
    "shell",
    "execute_request",
    { code: cell.source, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: !allowErrors },
    onIopub,
  );
  try {
    const timeoutSeconds = context.executionTimeoutSeconds;
    const answer = await race(kernel, reply, timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000);
    if (answer.kind === "death") {
      await drain(kernel, 100, 1000);
      throw new KernelDiedError(describeExit(kernel.process.exit ?? { code: null, signal: null }), cellIndex);
    }
    if (answer.kind === "timeout") {
      // papermill's shutdown interrupts the kernel first; the KeyboardInterrupt it raises still
      // lands in this cell's outputs before the kernel goes.
      kernel.interrupt();
      await race(kernel, idle, 5000);
      throw new CellTimeoutError(cellIndex, timeoutSeconds ?? 0, "Cell execution timed out");
    }
    const timing = cell.metadata["execution"];
    if (timing && typeof timing === "object" && !Array.isArray(timing)) {
      (timing as Record<string, string>)["shell.execute_reply"] = messageTimestamp(answer.value.header.date);
    }
    const iopubTimeoutMs = context.iopubTimeoutMs ?? 4000;
    const done = await race(kernel, idle, iopubTimeoutMs);
    if (done.kind === "death") {
      await drain(kernel, 100, 1000);
      throw new KernelDiedError(describeExit(kernel.process.exit ?? { code: null, signal: null }), cellIndex);
    }
    if (done.kind === "timeout") {
      throw new CellTimeoutError(cellIndex, iopubTimeoutMs / 1000, "Timeout waiting for IOPub output");
    }
    return answer.value.content["status"] === "error" && !allowErrors ? "error" : "ok";
  } finally {
    kernel.client.forget(msgId);
    saver.changed(cell);
  }
}
