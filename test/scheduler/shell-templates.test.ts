/**
 * Template values in shell-string commands, end to end through the scheduler and the local
 * executor: a value is never parsed as shell syntax, whatever quotes surround its template.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openHarness, type Harness } from "../support/platform-harness.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const INJECTION = `x"; touch "$CAPSTAN_ARTIFACTS_DIR/pwned"; echo "`;

const PIPELINE = `id: shell
params:
  msg: { type: string }
tasks:
  say: { command: 'echo "msg is {{ params.msg }}"' }
  bare: { command: "printf '%s|' {{ params.msg }} {{ ds }}" }
  single: { command: "printf '%s|' '<{{ params.msg }}>'" }
`;

async function logOf(h: Harness, runId: string, taskId: string): Promise<string> {
  const attempt = (await h.platform.store.attempts.listByTask({ runId, taskId }))[0];
  return readFileSync(attempt?.logPath ?? "", "utf8");
}

describe("templates in shell commands", () => {
  it("runs nothing from an injected param and prints the value verbatim in every quote context", async () => {
    const h = (harness = await openHarness({ pipelines: { "shell.yaml": PIPELINE } }));
    const run = await h.platform.scheduler.trigger("shell", { params: { msg: INJECTION }, logicalDate: Date.parse("2026-03-04T05:06:07Z") });
    expect((await h.waitForRun(run.id)).state).toBe("success");
    const artifacts = join(h.home, "artifacts", run.id);
    expect(existsSync(join(artifacts, "pwned"))).toBe(false);
    expect(readdirSync(artifacts)).toEqual([]);
    expect(await logOf(h, run.id, "say")).toBe(`msg is ${INJECTION}\n`);
    expect(await logOf(h, run.id, "bare")).toBe(`${INJECTION}|2026-03-04|`);
    expect(await logOf(h, run.id, "single")).toBe(`<${INJECTION}>|`);
  });

  it("passes quotes, backslashes, command substitutions, newlines and globs through unchanged", async () => {
    const h = (harness = await openHarness({ pipelines: { "shell.yaml": PIPELINE } }));
    const value = `it's "quoted" \\ $(touch "$CAPSTAN_ARTIFACTS_DIR/a") \`touch "$CAPSTAN_ARTIFACTS_DIR/b"\` *\nsecond line`;
    const run = await h.platform.scheduler.trigger("shell", { params: { msg: value } });
    expect((await h.waitForRun(run.id)).state).toBe("success");
    expect(readdirSync(join(h.home, "artifacts", run.id))).toEqual([]);
    expect(await logOf(h, run.id, "say")).toBe(`msg is ${value}\n`);
    expect((await logOf(h, run.id, "bare")).startsWith(`${value}|`)).toBe(true);
    expect(await logOf(h, run.id, "single")).toBe(`<${value}>|`);
  });
});
