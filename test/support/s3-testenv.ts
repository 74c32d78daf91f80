/**
 * A real S3 server for tests, without a container engine: versitygw (an S3 gateway with a posix
 * backend) built from the Go module proxy by scripts/s3-testenv/build.sh and cached in
 * ~/.cache/capstan/s3/versitygw-<version>/. Each test file starts its own server on a free
 * loopback port with a temporary data folder (startS3Testenv), and stops it after.
 *
 * The global setup calls ensureS3Binary() beside the Kubernetes build, so both build at once on a
 * fresh machine; a failed build fails the run with the build's own last lines.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureGoTestenvBuild } from "./go-testenv.js";
import { freePort, stopChild } from "./child-process.js";

const READY_TIMEOUT_MS = 30_000;

/** Where the built versitygw binary is, building it first when the cache lacks it. */
export async function ensureS3Binary(progress: NodeJS.WritableStream = process.stderr): Promise<string> {
  return join(await ensureGoTestenvBuild({ folder: "s3-testenv", what: "the test S3 server" }, progress), "versitygw");
}

/** A running S3 server. */
export interface S3Testenv {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The posix folder the server keeps buckets in (a bucket is a folder, an object a file). */
  dataDir: string;
  /** A client for the root user. */
  client: S3Client;
  /** Makes a bucket and returns its name. */
  createBucket(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts versitygw on a free port with a new temporary data folder. */
export async function startS3Testenv(): Promise<S3Testenv> {
  const binary = await ensureS3Binary();
  const dir = await mkdtemp(join(tmpdir(), "capstan-s3-"));
  const dataDir = join(dir, "data");
  await mkdir(dataDir);
  await mkdir(join(dir, "meta"));
  const accessKeyId = `capstan${randomBytes(6).toString("hex")}`;
  const secretAccessKey = randomBytes(24).toString("hex");
  const region = "us-east-1";
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const logFile = join(dir, "versitygw.log");
    const child = spawn(
      binary,
      ["--port", `127.0.0.1:${port}`, "--access", accessKeyId, "--secret", secretAccessKey, "--region", region, "--quiet", "--health", "/health", "posix", "--sidecar", join(dir, "meta"), dataDir],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const log = createWriteStream(logFile);
    const recent: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding("utf8").on("data", (chunk: string) => {
        log.write(chunk);
        recent.push(chunk);
        if (recent.length > 50) recent.shift();
      });
    }
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitReady(child, `${endpoint}/health`, () => recent.join(""));
    } catch (error) {
      child.kill("SIGKILL");
      if (attempt < 3 && /address already in use/.test(String(error))) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    return {
      endpoint,
      region,
      accessKeyId,
      secretAccessKey,
      dataDir,
      client,
      async createBucket(name = `b-${randomBytes(6).toString("hex")}`) {
        await client.send(new CreateBucketCommand({ Bucket: name }));
        return name;
      },
      async stop() {
        client.destroy();
        await stopChild(child, "SIGTERM", 5_000);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

async function waitReady(child: ChildProcess, url: string, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`versitygw exited (${String(child.exitCode ?? child.signalCode)}) before it was ready; its output:\n${output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`versitygw was not ready at ${url} within ${READY_TIMEOUT_MS / 1000} s; its output:\n${output()}`);
    await sleep(50);
  }
}
