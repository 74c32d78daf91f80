/**
 * Vitest global setup: starts the services the integration tests share, once per test run — a real
 * PostgreSQL server (Debian package) whose URL reaches the tests as CAPSTAN_TEST_PG_URL — and
 * rebuilds dist/ when sources are newer, for tests that spawn the `capstan` command.
 */
import { ensureBuilt } from "./build.js";
import { startTestPostgres, type TestPostgres } from "./postgres.js";

let postgres: TestPostgres | undefined;

export default async function setup(): Promise<() => void> {
  ensureBuilt();
  if (!process.env.CAPSTAN_TEST_PG_URL) {
    postgres = await startTestPostgres();
    process.env.CAPSTAN_TEST_PG_URL = postgres.url;
  }
  return () => {
    postgres?.stop();
  };
}
