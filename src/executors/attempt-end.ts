/**
 * The end of an attempt from what its task left behind, one rule for every executor: the exit code,
 * the outputs the task wrote to $CAPSTAN_OUTPUT (a file, or a pod's termination message), the
 * outputs the executor set at launch (the output notebook), and the reason it was killed for.
 * Executors read their own sources and name their own failures (OOMKilled, Evicted, a signal);
 * what is kept, what counts as success and how the reason is put together is decided here.
 */
import type { AttemptEnd } from "./executor.js";
import { oneLine } from "./one-line.js";

/**
 * The outputs a task wrote, as read: one JSON object; text that is not JSON (a failed task's words
 * on why it failed); or what is wrong with them.
 */
export type WrittenOutputs = { value: Record<string, unknown> } | { text: string } | { error: string };

/** What the shell's exit codes commonly mean, beyond 127 (command not found) and 128+n (signal n). */
export interface ExitCodeMeanings {
  /** 126: the command could not be executed (where nothing else exits 126 before the command runs). */
  notExecutable?: boolean;
  /** Signal 9 may be the kernel's out-of-memory killer (where no one reports OOM kills). */
  sigkillMayBeMemory?: boolean;
}

/** The outputs kept with an ended attempt: the task's object with the preset over it; none when they were not valid. */
export function keptOutputs(written: WrittenOutputs, preset: Record<string, string>): Record<string, unknown> | null {
  if ("value" in written) return { ...written.value, ...preset };
  if ("text" in written) return { ...preset };
  return null;
}

/** A command that exited 0 succeeded with its outputs; outputs that are not valid fail it, and retrying cannot help. */
export function exitedZero(written: WrittenOutputs, preset: Record<string, string>): AttemptEnd {
  if ("error" in written) return { outcome: "failed", exitCode: 0, reason: written.error, outputs: null, retryable: false };
  return { outcome: "success", exitCode: 0, reason: null, outputs: keptOutputs(written, preset), retryable: true };
}

/**
 * A command that failed: `reason` is the executor's account ("exit code 3", "killed by SIGKILL"),
 * followed by the text the task wrote as its outputs (why it failed) and, with `noteOutputsProblem`,
 * by what is wrong with its outputs. Outputs it wrote are kept, and it may be retried.
 */
export function exitedFailing(exitCode: number | null, reason: string, written: WrittenOutputs, preset: Record<string, string>, options: { noteOutputsProblem?: boolean } = {}): AttemptEnd {
  let full = reason;
  if ("text" in written) full += `: ${oneLine(written.text)}`;
  else if ("error" in written && options.noteOutputsProblem === true) full += `; ${written.error}`;
  return { outcome: "failed", exitCode, reason: full, outputs: keptOutputs(written, preset), retryable: true };
}

/** "exit code N", with what it commonly means: "exit code 137 (killed by signal 9)". */
export function exitCodeReason(code: number, meanings: ExitCodeMeanings = {}): string {
  if (code === 127) return "exit code 127 (command not found)";
  if (code === 126 && meanings.notExecutable === true) return "exit code 126 (command not executable)";
  if (code > 128 && code < 160) {
    const signal = code - 128;
    return `exit code ${code} (killed by signal ${signal}${signal === 9 && meanings.sigkillMayBeMemory === true ? ", possibly out of memory" : ""})`;
  }
  return `exit code ${code}`;
}

/**
 * An attempt killed on purpose (cancel, timeout, clear) that did not succeed failed for that reason,
 * whatever else it showed at its end (an exit code, a vanished pod); its outputs are kept.
 */
export function withKillReason(end: AttemptEnd, killedFor: string | undefined): AttemptEnd {
  if (killedFor === undefined || end.outcome === "success") return end;
  return { ...end, outcome: "failed", reason: killedFor };
}

/** The attempt's process or pod vanished: lost, and retried with a new try. */
export function lostEnd(reason: string): AttemptEnd {
  return { outcome: "lost", exitCode: null, reason: `lost: ${reason}`, outputs: null, retryable: true };
}

/** The attempt failed before its command could tell (it never started, or was stopped): no exit code, no outputs. */
export function failedEnd(reason: string, retryable: boolean): AttemptEnd {
  return { outcome: "failed", exitCode: null, reason, outputs: null, retryable };
}
