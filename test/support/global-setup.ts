/**
 * Vitest global setup: starts the shared services the integration tests need once per test run.
 * Filled in as services are added (PostgreSQL first).
 */
export default function setup(): void {
  // nothing shared yet
}
