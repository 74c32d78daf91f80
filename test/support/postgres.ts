/**
 * A real PostgreSQL server for the tests, from the Debian package: a throwaway cluster in a temp
 * folder on a free loopback port, started once by the global setup. Each test gets its own database.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";

export interface TestPostgres {
  url: string;
  stop(): void;
}

function binDir(): string {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) throw new Error("PostgreSQL is not installed (expected /usr/lib/postgresql/*/bin); scripts/setup.sh installs the Debian package postgresql");
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  const version = versions[0];
  if (!version) throw new Error(`no PostgreSQL version under ${root}`);
  return join(root, version, "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** PostgreSQL refuses to run as root: commands then run as the `postgres` system user. */
function asServerUser(command: string, args: string[]): string[] {
  if (process.getuid?.() !== 0) return [command, ...args];
  return ["runuser", "-u", "postgres", "--", command, ...args];
}

function run(argv: string[]): void {
  const [command, ...args] = argv;
  const result = spawnSync(command ?? "", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${argv.join(" ")} failed: ${result.stderr || result.stdout}`);
}

/** Starts a new cluster; `stop()` shuts it down and removes its files. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), "capstan-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  if (process.getuid?.() === 0) execFileSync("chown", ["postgres:postgres", dir]);
  run(asServerUser(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]));
  const port = await freePort();
  run(
    asServerUser(join(bin, "pg_ctl"), [
      "-D", data, "-l", join(dir, "server.log"), "-w", "-t", "60", "start",
      "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`,
    ]),
  );
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      const [command, ...args] = asServerUser(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      spawnSync(command ?? "", args);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The test server's URL, set by the global setup. */
export function testPostgresUrl(): string {
  const url = process.env.CAPSTAN_TEST_PG_URL;
  if (!url) throw new Error("CAPSTAN_TEST_PG_URL is not set: the vitest global setup starts PostgreSQL (see test/support/global-setup.ts)");
  return url;
}

/** Creates an empty database on the test server and returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const admin = testPostgresUrl();
  const name = `capstan_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  return admin.replace(/\/[^/]*$/, `/${name}`);
}
