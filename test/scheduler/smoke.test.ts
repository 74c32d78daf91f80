import { afterEach, describe, expect, it } from "vitest";
import { openHarness, type Harness } from "../support/platform-harness.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe("a pipeline on the local executor", () => {
  it("runs dependent tasks in order and passes outputs downstream", async () => {
    harness = await openHarness({
      pipelines: {
        "hello.yaml": `id: hello
tasks:
  make:
    command: 'echo "{\\"greeting\\": \\"hi\\"}" > "$CAPSTAN_OUTPUT"'
  say:
    command: ["sh", "-c", "echo said {{ tasks.make.outputs.greeting }} > out.txt; cat out.txt"]
    depends_on: [make]
`,
      },
    });
    const run = await harness.platform.scheduler.trigger("hello");
    const done = await harness.waitForRun(run.id);
    expect(done.state).toBe("success");
    const tasks = await harness.platform.store.tasks.listByRun(run.id);
    expect(Object.fromEntries(tasks.map((t) => [t.taskId, t.state]))).toEqual({ make: "success", say: "success" });
    expect(tasks.find((t) => t.taskId === "make")?.outputs).toEqual({ greeting: "hi" });
  });
});
