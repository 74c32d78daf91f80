/**
 * A TypeScript pipeline file that loops at import: `capstan pipelines validate` returns and names
 * it with the limit, and `capstan up` comes up with it present, serving every other pipeline.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, startUp } from "../support/cli-process.js";
import { tempDir } from "../support/platform-harness.js";

function project(): { dir: string; env: Record<string, string> } {
  const dir = tempDir("capstan-cli-");
  mkdirSync(join(dir, "pipelines"));
  writeFileSync(join(dir, "capstan.yaml"), "pipeline_load_timeout: 3s\n");
  writeFileSync(join(dir, "pipelines", "loop.ts"), `import { pipeline } from "capstan";\nwhile (true) {}\nexport default pipeline({ id: "loop", tasks: { t: { command: "true" } } });\n`);
  writeFileSync(join(dir, "pipelines", "good.ts"), `import { pipeline } from "capstan";\nexport default pipeline({ id: "good", tasks: { t: { command: "true" } } });\n`);
  writeFileSync(join(dir, "pipelines", "plain.yaml"), "id: plain\ntasks:\n  t: { command: 'true' }\n");
  return { dir, env: { CAPSTAN_HOME: join(dir, "home") } };
}

describe("a TypeScript pipeline file that never finishes loading", () => {
  it("makes capstan pipelines validate exit 1, naming the file and the limit, and checks the other files", async () => {
    const { dir, env } = project();
    const result = await runCli(["pipelines", "validate"], { cwd: dir, env, timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(dir, "pipelines", "loop.ts")}: did not finish loading within 3s (the pipeline_load_timeout setting)`);
    expect(result.stdout).toContain(`ok      ${join(dir, "pipelines", "good.ts")} (good, 1 tasks)`);
    expect(result.stdout).toContain(`ok      ${join(dir, "pipelines", "plain.yaml")} (plain, 1 tasks)`);
  });

  it("does not keep capstan up from starting; the server answers and lists the file's error", { timeout: 120_000 }, async () => {
    const { dir, env } = project();
    const up = await startUp([], { cwd: dir, env, timeoutMs: 60_000 });
    try {
      expect((await fetch(`${up.url}/api/health`)).status).toBe(200);
      for (let i = 0; i < 100 && !/password: \S+/.test(up.stderr()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const reset = await runCli(["--json", "users", "reset-password"], { cwd: dir, env });
      const { password } = JSON.parse(reset.stdout) as { password: string };
      const token = (await (await fetch(`${up.url}/api/auth/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password, name: "test" }) })).json()) as { token: string };
      const list = (await (await fetch(`${up.url}/api/pipelines`, { headers: { authorization: `Bearer ${token.token}` } })).json()) as { pipelines: { id: string }[]; errors: { file: string; message: string }[] };
      expect(list.pipelines.map((p) => p.id)).toEqual(["good", "plain"]);
      expect(list.errors.map((e) => e.message)).toEqual([expect.stringContaining("loop.ts: did not finish loading within 3s")]);
    } finally {
      up.child.kill("SIGTERM");
      await new Promise((resolve) => up.child.once("exit", resolve));
    }
  });
});
