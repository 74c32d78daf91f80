/** The rule every executor applies at an attempt's end: outputs kept, success, and the failure reason. */
import { describe, expect, it } from "vitest";
import { exitCodeReason, exitedFailing, exitedZero, withKillReason } from "./attempt-end.js";

const preset = { notebook: "/attempts/out.ipynb" };

describe("attempt end", () => {
  it("a command that exits 0 succeeds with its outputs and the preset over them", () => {
    expect(exitedZero({ value: { rows: 3, notebook: "mine" } }, preset)).toEqual({ outcome: "success", exitCode: 0, reason: null, outputs: { rows: 3, notebook: "/attempts/out.ipynb" }, retryable: true });
  });

  it("outputs that are not valid fail a command that exited 0, and retrying cannot help", () => {
    expect(exitedZero({ error: "outputs: not valid JSON" }, preset)).toEqual({ outcome: "failed", exitCode: 0, reason: "outputs: not valid JSON", outputs: null, retryable: false });
  });

  it("a failing command's text outputs say why it failed, and its outputs are kept", () => {
    expect(exitedFailing(2, "exit code 2", { text: "no such\n  table" }, preset)).toEqual({ outcome: "failed", exitCode: 2, reason: "exit code 2: no such table", outputs: preset, retryable: true });
    expect(exitedFailing(1, "exit code 1", { value: { rows: 1 } }, {})).toMatchObject({ reason: "exit code 1", outputs: { rows: 1 } });
    expect(exitedFailing(1, "exit code 1", { error: "outputs: bad" }, {})).toMatchObject({ reason: "exit code 1", outputs: null });
    expect(exitedFailing(1, "exit code 1", { error: "outputs: bad" }, {}, { noteOutputsProblem: true })).toMatchObject({ reason: "exit code 1; outputs: bad" });
  });

  it("exit codes say what they commonly mean", () => {
    expect(exitCodeReason(3)).toBe("exit code 3");
    expect(exitCodeReason(127)).toBe("exit code 127 (command not found)");
    expect(exitCodeReason(126)).toBe("exit code 126");
    expect(exitCodeReason(126, { notExecutable: true })).toBe("exit code 126 (command not executable)");
    expect(exitCodeReason(143)).toBe("exit code 143 (killed by signal 15)");
    expect(exitCodeReason(137, { sigkillMayBeMemory: true })).toBe("exit code 137 (killed by signal 9, possibly out of memory)");
  });

  it("a kill's reason replaces any other unless the attempt succeeded", () => {
    const failed = exitedFailing(143, "exit code 143 (killed by signal 15)", { value: { rows: 1 } }, {});
    expect(withKillReason(failed, "cancelled")).toMatchObject({ outcome: "failed", reason: "cancelled", exitCode: 143, outputs: { rows: 1 } });
    expect(withKillReason({ outcome: "lost", exitCode: null, reason: "lost: gone", outputs: null, retryable: true }, "timed out after 2s")).toMatchObject({ outcome: "failed", reason: "timed out after 2s" });
    expect(withKillReason(exitedZero({ value: {} }, {}), "cancelled").outcome).toBe("success");
    expect(withKillReason(failed, undefined)).toBe(failed);
  });
});
