/**
 * What Capstan asks of a sandbox's JupyterLab over its REST API, with the upstream token: whether it
 * answers (readiness), and when its kernels were last active (for idle culling). Backend-agnostic:
 * it needs only the upstream URL.
 */

/** One request to the upstream with the token; undefined when it does not answer. */
async function getJson(upstream: string, path: string, token: string, timeoutMs: number): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const response = await fetch(new URL(path, upstream), { headers: { authorization: `token ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let body: unknown = undefined;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body };
  } catch {
    return undefined;
  }
}

/** True when JupyterLab answers its status endpoint with this token. */
export async function jupyterAnswers(upstream: string, token: string, timeoutMs = 1000): Promise<boolean> {
  const answer = await getJson(upstream, "api/status", token, timeoutMs);
  return answer?.status === 200;
}

/**
 * Polls until JupyterLab answers, `gone()` says the server died, or `timeoutMs` passes. Returns
 * "ready", "gone" or "timeout".
 */
export async function waitForJupyter(upstream: string, token: string, options: { timeoutMs: number; gone: () => boolean; signal?: AbortSignal }): Promise<"ready" | "gone" | "timeout" | "aborted"> {
  const deadline = Date.now() + options.timeoutMs;
  let delay = 25;
  while (Date.now() < deadline) {
    if (options.signal?.aborted) return "aborted";
    if (options.gone()) return "gone";
    if (await jupyterAnswers(upstream, token, 500)) return "ready";
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 200);
  }
  return "timeout";
}

/**
 * The kernels' latest activity in epoch ms (now when one is busy), null when there are none, or
 * undefined when JupyterLab does not answer.
 */
export async function kernelActivity(upstream: string, token: string, now: number): Promise<number | null | undefined> {
  const answer = await getJson(upstream, "api/kernels", token, 2000);
  if (answer?.status !== 200 || !Array.isArray(answer.body)) return undefined;
  let latest: number | null = null;
  for (const kernel of answer.body as { last_activity?: string; execution_state?: string }[]) {
    const at = kernel.execution_state === "busy" ? now : kernel.last_activity ? Date.parse(kernel.last_activity) : NaN;
    if (Number.isFinite(at)) latest = Math.max(latest ?? 0, at);
  }
  return latest;
}
