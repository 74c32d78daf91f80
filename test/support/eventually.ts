/**
 * Waiting in tests for a condition another process or timer brings about: `check` is asked every
 * 100 ms until it gives a value (not undefined), which is returned; past the deadline the wait
 * fails naming what was awaited. No fixed sleeps in tests: wait for the thing itself.
 */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
