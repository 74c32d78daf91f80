/**
 * A model with several workers stops cleanly: unregistering it retires every worker while the server
 * keeps answering its other models, and closing the server ends with all workers gone.
 */
import { describe, expect, it } from "vitest";
import { ECHO_HANDLER, FUNCTION_HANDLER } from "./support/handlers.js";
import { startServe, type ServeHarness } from "./support/serve-harness.js";

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function workerPids(serve: ServeHarness, model: string): Promise<number[]> {
  const [description] = (await (await serve.manage(`/models/${model}`)).json()) as Array<{ workers: Array<{ pid: number }> }>;
  return description!.workers.map((w) => w.pid);
}

async function gone(pids: number[]): Promise<boolean> {
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  return !pids.some(alive);
}

describe("models with several workers", () => {
  it("unregistering one retires all its workers and the server keeps answering; close then ends every worker", async () => {
    const serve = await startServe({
      archives: {
        "many.mar": { modelName: "many", handler: "echo_handler.py", configFile: "config.yaml", files: { "echo_handler.py": ECHO_HANDLER, "config.yaml": "minWorkers: 3\nmaxWorkers: 3\n" } },
        "other.mar": { modelName: "other", handler: "fn_handler:handle", configFile: "config.yaml", files: { "fn_handler.py": FUNCTION_HANDLER, "config.yaml": "minWorkers: 2\nmaxWorkers: 2\n" } },
      },
      models: ["many.mar", "other.mar"],
      properties: { enable_model_api: "true" },
    });
    let stopped = false;
    try {
      const many = await workerPids(serve, "many");
      expect(many).toHaveLength(3);
      expect((await serve.manage("/models/many", { method: "DELETE" })).status).toBe(200);
      expect(await gone(many)).toBe(true);
      const answer = await serve.infer("/predictions/other", { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" });
      expect(await answer.text()).toBe("fn:hi");
      const other = await workerPids(serve, "other");
      expect(other).toHaveLength(2);
      await serve.stop();
      stopped = true;
      expect(await gone(other)).toBe(true);
    } finally {
      if (!stopped) await serve.stop();
    }
  }, 120_000);
});
