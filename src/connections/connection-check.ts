/**
 * "Test connection": really reaches the endpoint with the connection's credentials — Kafka: a
 * metadata request; http: a GET; postgres: SELECT 1; s3: a listing; webhdfs: GETFILESTATUS of /
 * (and, with resource_manager_url, the ResourceManager's /ws/v1/cluster/info);
 * spark: a TCP connection to a spark:// master — within a time limit, and says what happened in
 * words with every secret value of the connection masked. HTTP answers are told by status only
 * (never a body) and redirects are not followed, so the test cannot read internal addresses.
 */
import { connect as connectTcp } from "node:net";
import { readAtMost } from "../http-body/index.js";
import type { ResolvedConnection } from "./connection-service.js";

export interface ConnectionCheck {
  ok: boolean;
  /** What was tried and what came back, for people (secret values masked). */
  message: string;
  elapsedMs: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** Tries the connection once; never throws for a failed check (ok: false says why). */
export async function checkConnection(connection: ResolvedConnection, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ConnectionCheck> {
  const started = Date.now();
  let ok = false;
  let message: string;
  try {
    message = await withTimeout(check(connection, timeoutMs), timeoutMs, `no answer within ${timeoutMs / 1000} s`);
    ok = true;
  } catch (error) {
    message = describe(error);
  }
  for (const value of Object.values(connection.secretValues)) if (value.length >= 3) message = message.replaceAll(value, "***");
  return { ok, message, elapsedMs: Date.now() - started };
}

async function check(connection: ResolvedConnection, timeoutMs: number): Promise<string> {
  const s = connection.settings;
  const secret = connection.secretValues;
  switch (connection.kind) {
    case "kafka": {
      const { Admin } = await import("@platformatic/kafka");
      const servers = s.bootstrap_servers as string[];
      const admin = new Admin({
        clientId: "capstan-connection-test",
        bootstrapBrokers: servers,
        retries: 0,
        connectTimeout: timeoutMs,
        ...(s.tls === true ? { tls: {} } : {}),
        ...(s.sasl_mechanism !== undefined
          ? { sasl: { mechanism: s.sasl_mechanism as "PLAIN", username: String(s.sasl_username), password: secret.sasl_password ?? "" } }
          : {}),
      });
      try {
        const metadata = await admin.metadata({ topics: [] });
        return `metadata from ${servers.join(",")}: cluster ${metadata.id}, ${metadata.brokers.size} broker(s)`;
      } finally {
        await admin.close().catch(() => undefined);
      }
    }
    case "http": {
      const url = String(s.url);
      const headers: Record<string, string> = secret.bearer_token ? { authorization: `Bearer ${secret.bearer_token}` } : {};
      const response = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
      await response.body?.cancel();
      if (response.status >= 400) throw new Error(`GET ${url} answered ${response.status} ${response.statusText}`);
      return `GET ${url} answered ${response.status} ${response.statusText}`;
    }
    case "webhdfs": {
      const base = String(s.url).replace(/\/+$/, "");
      const user = s.user !== undefined ? `&user.name=${encodeURIComponent(String(s.user))}` : "";
      const token = secret.delegation_token ? `&delegation=${encodeURIComponent(secret.delegation_token)}` : "";
      // Only the status is told: a body (or a redirect's target) may come from any address the URL names.
      const response = await fetch(`${base}/webhdfs/v1/?op=GETFILESTATUS${user}${token}`, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`WebHDFS GETFILESTATUS / answered ${response.status}${response.status >= 300 && response.status < 400 ? " (a redirect, not followed)" : ""}`);
      }
      const text = await readAtMost(response, 64 * 1024);
      if (!text.includes('"FileStatus"')) throw new Error(`WebHDFS GETFILESTATUS / answered ${response.status} without a FileStatus: not a WebHDFS endpoint`);
      if (s.resource_manager_url === undefined) return `WebHDFS GETFILESTATUS / answered ${response.status}`;
      // A spark task's YARN application is killed through this API: a wrong URL is found now, not at the first cancel.
      const rm = await fetch(`${String(s.resource_manager_url).replace(/\/+$/, "")}/ws/v1/cluster/info`, { redirect: "manual", headers: { accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
      const info = rm.status === 200 ? await readAtMost(rm, 64 * 1024) : (await rm.body?.cancel(), "");
      if (rm.status !== 200 || !info.includes('"clusterId"')) {
        throw new Error(`WebHDFS GETFILESTATUS / answered ${response.status}, but the ResourceManager's /ws/v1/cluster/info answered ${rm.status}${rm.status >= 300 && rm.status < 400 ? " (a redirect, not followed: a standby?)" : rm.status === 200 ? " without a clusterId: not a ResourceManager" : ""}`);
      }
      return `WebHDFS GETFILESTATUS / answered ${response.status}; the ResourceManager's /ws/v1/cluster/info answered ${rm.status}`;
    }
    case "postgres": {
      const { default: pg } = await import("pg");
      const client = new pg.Client({
        host: String(s.host),
        port: Number(s.port),
        database: String(s.database),
        user: String(s.user),
        ...(secret.password !== undefined ? { password: secret.password } : {}),
        ...(s.sslmode === "require" ? { ssl: { rejectUnauthorized: true } } : {}),
        connectionTimeoutMillis: timeoutMs,
        query_timeout: timeoutMs,
      });
      client.on("error", () => undefined);
      try {
        await client.connect();
        const result = await client.query<{ one: number }>("SELECT 1 AS one");
        return `SELECT 1 on ${String(s.host)}:${String(s.port)}/${String(s.database)} as ${String(s.user)} answered ${String(result.rows[0]?.one)}`;
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    case "s3": {
      const { S3Client, ListBucketsCommand, ListObjectsV2Command } = await import("@aws-sdk/client-s3");
      const client = new S3Client({
        region: String(s.region),
        ...(s.endpoint !== undefined ? { endpoint: String(s.endpoint) } : {}),
        forcePathStyle: s.force_path_style === true,
        ...(secret.access_key_id !== undefined && secret.secret_access_key !== undefined
          ? { credentials: { accessKeyId: secret.access_key_id, secretAccessKey: secret.secret_access_key } }
          : {}),
        maxAttempts: 1,
      });
      try {
        if (s.bucket !== undefined) {
          const listed = await client.send(new ListObjectsV2Command({ Bucket: String(s.bucket), MaxKeys: 1 }), { abortSignal: AbortSignal.timeout(timeoutMs) });
          return `listed bucket ${String(s.bucket)}: ${listed.KeyCount ?? 0} object(s) in the first page`;
        }
        const listed = await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(timeoutMs) });
        return `listed ${listed.Buckets?.length ?? 0} bucket(s)`;
      } finally {
        client.destroy();
      }
    }
    case "spark": {
      const master = String(s.master);
      const match = /^spark:\/\/([^:]+):([0-9]+)$/.exec(master);
      if (!match) return `${master} is not a standalone master; nothing to connect to before a job runs`;
      const [host, port] = [match[1] ?? "", Number(match[2])];
      await new Promise<void>((resolve, reject) => {
        const socket = connectTcp({ host, port, timeout: timeoutMs });
        socket.once("connect", () => {
          socket.destroy();
          resolve();
        });
        socket.once("timeout", () => {
          socket.destroy();
          reject(new Error(`no TCP answer from ${host}:${port}`));
        });
        socket.once("error", reject);
      });
      return `TCP connection to the Spark master ${host}:${port} opened`;
    }
  }
}


function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  let cause: unknown = error.cause;
  // Client libraries wrap the network error; its message is the useful part.
  for (let depth = 0; cause instanceof Error && depth < 3; depth += 1) {
    if (!parts.includes(cause.message)) parts.push(cause.message);
    cause = cause.cause;
  }
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested)) for (const inner of nested.slice(0, 3)) if (inner instanceof Error && !parts.includes(inner.message)) parts.push(inner.message);
  return parts.filter((p) => p !== "").join(": ") || error.name;
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms + 1_000);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
