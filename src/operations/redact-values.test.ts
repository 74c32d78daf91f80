import { describe, expect, it } from "vitest";
import { SecretMask } from "../secrets/index.js";
import { redactRunViews, redactTaskFields, redactValues } from "./redact-values.js";

// Several teams' secrets: every team's values are masked in every answer (masking more is safe).
const TEAM_A = "alpha-Pw-7731";
const TEAM_B = "beta\"<tok>\\9";
const MULTI = "line-one-secret\nline-two-secret";
const mask = SecretMask.of([TEAM_A, TEAM_B, MULTI]);
const redact = (text: string) => Promise.resolve(mask.maskText(text));

interface TaskFields {
  state: string;
  reason: string | null;
  outputs: Record<string, unknown> | null;
}

/** Runs with several tasks each; `a`, `b`, `m` and `ba` (two values side by side) stand where the secrets (or *** after masking) go. */
function runs(a: string, b: string, m: string, ba: string): { id: string; tasks: Record<string, TaskFields> }[] {
  const task = (state: string, reason: string | null, outputs: Record<string, unknown> | null): TaskFields => ({ state, reason, outputs });
  return [
    {
      id: "run-1",
      tasks: {
        clean: task("success", null, { rows: 10 }),
        first: task("failed", `exit code 3: ${a} then ${a} again`, { token: a, nested: [1, { deep: `x${b}y` }] }),
        last: task("up_for_retry", `other team ${b}`, null),
      },
    },
    { id: "run-2", tasks: { only: task("success", null, { note: "nothing secret" }) } },
    {
      id: "run-3",
      tasks: {
        one: task("failed", `multi ${m}`, { pair: [a, b], text: `${m}|${m}` }),
        two: task("success", null, { fine: true }),
        three: task("failed", ba, { list: [`${a}`, "plain", `${b}`] }),
      },
    },
  ];
}

describe("redactRunViews, redactTaskFields, redactValues", () => {
  it("masks every occurrence in every task of every run, each run keeping its own tasks", async () => {
    const masked = await redactRunViews(runs(TEAM_A, TEAM_B, MULTI, TEAM_B + TEAM_A), redact);
    expect(masked).toEqual(runs("***", "***", "***", "***"));
    expect(JSON.stringify(masked)).not.toMatch(/alpha-Pw|tok>|line-(one|two)-secret/);
  });

  it("masks a task list whose first tasks have nothing to mask, and the attempts of a task", async () => {
    const tasks = runs(TEAM_A, TEAM_B, MULTI, TEAM_B + TEAM_A).flatMap((r) => Object.values(r.tasks));
    const masked = await redactTaskFields(tasks, redact);
    expect(masked).toEqual(runs("***", "***", "***", "***").flatMap((r) => Object.values(r.tasks)));
    const attempts = [{ try: 1, reason: null }, { try: 2, reason: `bad ${TEAM_A}` }, { try: 3, reason: `bad ${MULTI.replace("\n", " ")}` }];
    expect(await redactValues(attempts, redact)).toEqual([{ try: 1, reason: null }, { try: 2, reason: "bad ***" }, { try: 3, reason: "bad ***" }]);
  });

  it("returns what has nothing to mask as it is", async () => {
    const clean = runs("a", "b", "m", "ba");
    const masked = await redactRunViews(clean, redact);
    expect(masked).toEqual(clean);
    expect(masked[0]).toBe(clean[0]);
  });
});
