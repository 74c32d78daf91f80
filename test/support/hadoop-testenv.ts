/**
 * A real HDFS for tests, without a container engine: hadoop-client-minicluster and its runtime
 * dependencies resolved from Maven Central by scripts/hadoop-testenv/fetch.sh and cached in
 * ~/.cache/capstan/hadoop/<version>/libs/, with the launcher scripts/hadoop-testenv/HadoopTestenv.java
 * compiled beside them, run on the machine's Java 17: one MiniDFSCluster (one datanode, WebHDFS on,
 * loopback, free ports, a temporary base folder) and, with `yarn: true`, a YARN ResourceManager beside
 * it (no node manager: applications are accepted and wait, which is enough to see and kill them).
 *
 * Each test file starts its own minicluster (startHadoopTestenv) once and shares it across its cases;
 * close() stops it (stdin EOF, then SIGTERM) and removes its folder. `confDir` is a ready
 * HADOOP_CONF_DIR (core-site.xml with fs.defaultFS, hdfs-site.xml, and yarn-site.xml with YARN).
 *
 * The global setup calls ensureHadoop() beside the other components, so all fetch at once on a
 * fresh machine; a failed fetch fails the run with Maven's (or javac's) own last lines.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stopChild } from "./child-process.js";
import { runCacheScript } from "./go-testenv.js";

const FETCH_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), "../../scripts/hadoop-testenv/fetch.sh");
const READY_TIMEOUT_MS = 120_000;

/** Where the fetched Hadoop jars and launcher are (the folder holding libs/ and launcher/), fetching them first when the cache lacks them. */
export async function ensureHadoop(progress: NodeJS.WritableStream = process.stderr): Promise<string> {
  return runCacheScript(FETCH_SCRIPT, { label: "hadoop-testenv", what: "the Hadoop minicluster", verb: "fetching" }, progress);
}

/** A running Hadoop minicluster. */
export interface HadoopTestenv {
  /** fs.defaultFS of the namenode, e.g. hdfs://127.0.0.1:41155. */
  defaultFs: string;
  /** Base URL of the namenode's HTTP server, e.g. http://127.0.0.1:36923 (WebHDFS is under /webhdfs/v1). */
  webhdfsUrl: string;
  /** A HADOOP_CONF_DIR for clients of this minicluster. */
  confDir: string;
  /** host:port of the YARN ResourceManager's RPC (only with `yarn: true`). */
  resourceManagerRpc?: string;
  /** http://host:port of the ResourceManager's web app and REST API (only with `yarn: true`). */
  resourceManagerWeb?: string;
  /** Milliseconds from starting the JVM to the printed ready line. */
  startMs: number;
  /** Stops the minicluster and removes its folder. */
  close(): Promise<void>;
}

/** What startHadoopTestenv starts. */
export interface HadoopTestenvOptions {
  /** Also start a YARN ResourceManager (no node manager); a few seconds more. */
  yarn?: boolean;
}

interface ReadyLine {
  ready: true;
  defaultFs: string;
  webhdfs: string;
  confDir: string;
  resourceManagerRpc?: string;
  resourceManagerWeb?: string;
}

/** Starts a minicluster on free loopback ports in a new temporary folder, and waits until it answers. */
export async function startHadoopTestenv(options: HadoopTestenvOptions = {}): Promise<HadoopTestenv> {
  const home = await ensureHadoop();
  const dir = await mkdtemp(join(tmpdir(), "capstan-hadoop-"));
  const classPath = `${join(home, "launcher")}:${join(home, "libs")}/*`;
  const args = [
    "-Xms128m",
    "-Xmx768m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    // Guice's cglib (YARN's web apps) defines classes through reflection.
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "-cp",
    classPath,
    "HadoopTestenv",
    "--base-dir",
    join(dir, "cluster"),
    ...(options.yarn === true ? ["--yarn"] : []),
  ];
  const started = Date.now();
  const child = spawn("java", args, { stdio: ["pipe", "pipe", "pipe"] });
  const log = createWriteStream(join(dir, "hadoop.log"), { flags: "a" });
  const recent: string[] = [];
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    log.write(chunk);
    recent.push(chunk);
    if (recent.length > 80) recent.shift();
  });
  let ready: ReadyLine;
  try {
    ready = await waitReady(child, () => recent.join(""));
  } catch (error) {
    await stopChild(child, "SIGKILL");
    log.end();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const startMs = Date.now() - started;
  return {
    defaultFs: ready.defaultFs,
    webhdfsUrl: ready.webhdfs,
    confDir: ready.confDir,
    ...(ready.resourceManagerRpc === undefined ? {} : { resourceManagerRpc: ready.resourceManagerRpc }),
    ...(ready.resourceManagerWeb === undefined ? {} : { resourceManagerWeb: ready.resourceManagerWeb }),
    startMs,
    async close() {
      // Closing stdin is the launcher's stop signal; SIGTERM (then SIGKILL) if it does not exit.
      child.stdin?.end();
      const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r()));
      const timer = setTimeout(() => void stopChild(child, "SIGTERM", 5_000), 10_000);
      await exited;
      clearTimeout(timer);
      log.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The launcher's JSON line on stdout; the JVM exiting first (or the timeout) fails with its output. */
async function waitReady(child: ChildProcess, output: () => string): Promise<ReadyLine> {
  return new Promise<ReadyLine>((resolvePromise, reject) => {
    let stdout = "";
    const timer = setTimeout(() => {
      reject(new Error(`the Hadoop minicluster was not ready within ${READY_TIMEOUT_MS / 1000} s; its output:\n${output().slice(-8_000)}`));
    }, READY_TIMEOUT_MS);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`the Hadoop minicluster exited (${String(code ?? signal)}) before it was ready; its output:\n${output().slice(-8_000)}`));
    };
    child.once("exit", onExit);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      const line = stdout.slice(0, newline);
      clearTimeout(timer);
      child.off("exit", onExit);
      try {
        const parsed = JSON.parse(line) as ReadyLine;
        if (parsed.ready !== true || typeof parsed.webhdfs !== "string" || typeof parsed.defaultFs !== "string") throw new Error("fields missing");
        resolvePromise(parsed);
      } catch (error) {
        reject(new Error(`the Hadoop minicluster printed an unexpected first line (${String(error)}): ${line}`));
      }
    });
  });
}
