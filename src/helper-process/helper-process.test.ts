/**
 * The JSON-lines helper client with a real helper process (a small Node script): replies are
 * matched to their requests in any order, an error reply fails its request alone, lines that answer
 * nothing are events, a helper that dies fails what it had not answered and is replaced when asked,
 * one that dies before it is ready (or never is) says why, and a helper that holds no reference
still keeps this process waiting while it starts.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HelperProcess, type HelperExit, type HelperMessage } from "./index.js";

const HELPER = `
const lines = require("node:readline").createInterface({ input: process.stdin });
const say = (message) => process.stdout.write(JSON.stringify(message) + "\\n");
say({ ready: process.pid, greeting: "hello" });
lines.on("line", (line) => {
  const m = JSON.parse(line);
  if (m.op === "echo") setTimeout(() => say({ id: m.id, value: m.value }), m.delay ?? 0);
  if (m.op === "fail") say({ id: m.id, error: "no good" });
  if (m.op === "event") { say({ note: m.value }); say({ id: m.id }); }
});
`;

const helpers: HelperProcess[] = [];
afterEach(() => {
  for (const helper of helpers.splice(0)) helper.close();
});

async function startHelper(extra: Partial<Parameters<typeof HelperProcess.start>[0]> = {}): Promise<HelperProcess> {
  const helper = await HelperProcess.start({ name: "the test helper", command: process.execPath, args: ["-e", HELPER], env: {}, ...extra });
  helpers.push(helper);
  return helper;
}

describe("a JSON-lines helper process", () => {
  it("matches replies to requests in any order, fails an error reply alone, and hands on lines that answer nothing", async () => {
    const events: HelperMessage[] = [];
    const helper = await startHelper({ onEvent: (message) => events.push(message) });
    expect(helper.ready).toMatchObject({ greeting: "hello" });
    const slow = helper.request({ op: "echo", value: "slow", delay: 200 });
    const fast = helper.request({ op: "echo", value: "fast" });
    const failed = helper.request({ op: "fail" });
    await expect(failed).rejects.toThrow("no good");
    expect(await fast).toMatchObject({ value: "fast" });
    expect(await slow).toMatchObject({ value: "slow" });
    await helper.request({ op: "event", value: "noted" });
    expect(events).toEqual([{ note: "noted" }]);
  });

  it("fails what a dead helper had not answered, starts a new one at once when asked, and serves again", async () => {
    const exits: HelperExit[] = [];
    let exited: () => void = () => undefined;
    const exitSeen = new Promise<void>((resolve) => (exited = resolve));
    const helper = await startHelper({
      restart: true,
      exitedError: () => new Error("gone before answering"),
      onExit: (exit) => {
        exits.push(exit);
        exited();
      },
    });
    const first = helper.pid;
    const unanswered = helper.request({ op: "echo", value: "never", delay: 60_000 });
    await helper.request({ op: "echo", value: "written" });
    process.kill(first ?? 0, "SIGKILL");
    await expect(unanswered).rejects.toThrow("gone before answering");
    await exitSeen;
    expect(exits).toEqual([{ code: null, signal: "SIGKILL" }]);
    expect(await helper.request({ op: "echo", value: "again" })).toMatchObject({ value: "again" });
    expect(helper.pid).not.toBe(first);
    expect(helper.boots).toBe(2);
  });

  it("without restart, refuses requests once its helper died", async () => {
    const helper = await startHelper();
    process.kill(helper.pid ?? 0, "SIGKILL");
    while (helper.running) await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(helper.request({ op: "echo", value: "x" })).rejects.toThrow("the test helper exited");
    helper.close();
    await expect(helper.request({ op: "echo", value: "x" })).rejects.toThrow("the test helper is closed");
  });

  it("keeps this process waiting while an unreferenced helper starts, and lets it exit once ready", () => {
    const script = [
      `import { HelperProcess } from ${JSON.stringify(join(import.meta.dirname, "index.ts"))};`,
      // The helper outlives this process by a while; its stderr is not the test's, which would be held open.
      "const slow = 'setTimeout(() => console.log(JSON.stringify({ ready: 1 })), 300); setTimeout(() => {}, 3000)';",
      "const helper = await HelperProcess.start({ name: 'a slow helper', command: process.execPath, args: ['-e', slow], env: {}, stderr: 'capture', unref: true });",
      "console.log(`ready ${String(helper.ready.ready)}`);",
    ].join("\n");
    const result = spawnSync(join(process.cwd(), "node_modules", ".bin", "tsx"), ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    expect({ status: result.status, stdout: result.stdout.trim() }).toEqual({ status: 0, stdout: "ready 1" });
  });

  it("says why when the helper exits before it is ready, with what it wrote to stderr", async () => {
    await expect(HelperProcess.start({ name: "the test helper", command: process.execPath, args: ["-e", 'console.error("no such module"); process.exit(3)'], env: {}, stderr: "capture" })).rejects.toThrow(
      "the test helper exited (3): no such module",
    );
    await expect(HelperProcess.start({ name: "the test helper", command: process.execPath, args: ["-e", "setTimeout(() => {}, 60_000)"], env: {}, readyTimeoutMs: 100 })).rejects.toThrow("the test helper did not start within 100 ms");
  });
});
