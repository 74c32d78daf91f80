/**
 * What Capstan reads from a Spark driver's log: why the job failed (the exception line of a Python
 * traceback or of a JVM's uncaught exception, not just "exit code 1") and the Spark UI's URL.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { AttemptEnd } from "../executors/executor.js";

/** How much of the log's end is searched for the failure, and of its start for the UI. */
const TAIL_BYTES = 64 * 1024;
const HEAD_BYTES = 256 * 1024;
/** Longest failure line kept in a reason. */
const MAX_LINE = 500;

/** A Java or Python exception class, dotted or not, at the start of a line: "org.x.FooException: …", "ValueError: …". */
const EXCEPTION_LINE = /^(?:[A-Za-z_$][\w$]*\.)*([A-Za-z_$][\w$]*(?:Exception|Error|Exit|Interrupt)):?(?:\s(.*))?$/;

/** Drops the package of an exception class: "pyspark.errors.exceptions.captured.AnalysisException: x" → "AnalysisException: x". */
function shortException(line: string): string | undefined {
  const match = EXCEPTION_LINE.exec(line.trim());
  if (!match) return undefined;
  const message = (match[2] ?? "").trim();
  const text = message === "" ? (match[1] ?? "") : `${match[1] ?? ""}: ${message}`;
  // Secret values are masked when a reason is shown, by matching them whole: a cut through the middle
  // of a word would leave a secret's first part unmasked, so the word the cut falls in is dropped.
  return text.length > MAX_LINE ? `${text.slice(0, MAX_LINE + 1).replace(/\S*$/, "").trimEnd()} …` : text;
}

/**
 * The line that says why the driver failed, from the end of its log: the exception line that ends
 * the last Python traceback, else a JVM's `Exception in thread "main" …`, else the last line that
 * starts with an exception class; undefined when there is none.
 */
export function driverFailureLine(log: string): string | undefined {
  const lines = log.split(/\r?\n/);
  const traceback = lines.lastIndexOf("Traceback (most recent call last):");
  if (traceback !== -1) {
    for (let i = traceback + 1; i < lines.length; i++) {
      const line = lines[i] ?? "";
      if (line === "" || /^\s/.test(line)) continue;
      const found = shortException(line);
      if (found !== undefined) return found;
    }
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = /Exception in thread "[^"]*" (.*)$/.exec(lines[i] ?? "");
    if (match) return shortException(match[1] ?? "") ?? match[1];
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? "";
    if (/^\s/.test(line) || line.startsWith("{")) continue;
    const found = shortException(line);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The Spark UI's URL from the start of a driver log: Spark 4 logs "Start Jetty HOST:PORT for
 * SparkUI" and "Successfully started service 'SparkUI' on port N" (the port it took when asked for
 * 0); older releases "Bound SparkUI to HOST, and started at http://…".
 */
export function sparkUiUrl(log: string): string | undefined {
  // The task writes this log: only a plain http(s)://host:port on this machine's loopback is taken
  // (a local job's driver binds there, SPARK_LOCAL_IP), never a path, credentials or another host.
  const bound = /Bound SparkUI to [^,]+, and started at (https?):\/\/([A-Za-z0-9.-]+):(\d{1,5})(?![^\s])/.exec(log);
  if (bound) return loopbackUrl(bound[1] ?? "http", bound[2] ?? "", bound[3] ?? "");
  const port = /Successfully started service 'SparkUI' on port (\d{1,5})\b/.exec(log);
  if (!port) return undefined;
  const jetty = /Start Jetty ([A-Za-z0-9.-]+):\d+ for SparkUI/.exec(log);
  const host = jetty?.[1] === undefined || jetty[1] === "0.0.0.0" ? "localhost" : jetty[1];
  return loopbackUrl("http", host, port[1] ?? "");
}

/** `scheme://host:port` when host is a loopback name and port a port number; undefined otherwise. */
function loopbackUrl(scheme: string, host: string, port: string): string | undefined {
  const loopback = host === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  return loopback && Number(port) > 0 && Number(port) <= 65535 ? `${scheme}://${host}:${port}` : undefined;
}

/** Up to `bytes` of a log file as text, from its start or its end; "" when it cannot be read. */
export function readRange(path: string, fromEnd: boolean, bytes: number): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return "";
  }
  try {
    const { size } = fstatSync(fd);
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, fromEnd ? size - length : 0);
    return buffer.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** The Spark UI's URL of a running local job, read from the start of its log file. */
export function readSparkUiUrl(logPath: string): string | undefined {
  return sparkUiUrl(readRange(logPath, false, HEAD_BYTES));
}

/**
 * A failed spark-submit's end with the driver's exception added to its reason ("exit code 1:
 * AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] …"); any other end as it is.
 */
export function withDriverFailure(end: AttemptEnd, logPath: string): AttemptEnd {
  // exit 0 with bad outputs failed for that reason, not for an exception the job caught and logged
  if (end.outcome !== "failed" || end.reason === null || end.exitCode === 0) return end;
  const line = driverFailureLine(readRange(logPath, true, TAIL_BYTES));
  return line === undefined ? end : { ...end, reason: `${end.reason}: ${line}` };
}
