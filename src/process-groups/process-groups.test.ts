/**
 * Process groups and sets of processes with real processes: a group is signalled as a whole, a
 * process that leads no group is reached through the fallback, and SIGKILL is repeated over a list
 * until it names nothing.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { signalGroup, signalGroupOrProcess, signalUntilGone } from "./index.js";

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A session leader with two children in its group; resolves with the leader's and the children's pids. */
async function group(): Promise<{ leader: number; children: number[] }> {
  const child = spawn("/bin/sh", ["-c", "sleep 1000 & sleep 1000 & echo $!; wait"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
  child.unref();
  const line = await new Promise<string>((resolve) => child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())));
  const leader = child.pid ?? 0;
  const children = readFileSync(`/proc/${leader}/task/${leader}/children`, "utf8").trim().split(/\s+/).map(Number);
  expect(children).toContain(Number(line));
  return { leader, children };
}

describe("process groups", () => {
  it("signals every process of a group at once, and says when the group is gone", async () => {
    const { leader, children } = await group();
    expect(signalGroup(leader, "SIGKILL")).toBe(true);
    await until(() => ![leader, ...children].some(alive), "the group gone");
    await until(() => !signalGroup(leader, "SIGKILL"), "the group reported empty");
  });

  it("reaches a process that leads no group through the fallback, and never signals pid 0, 1 or -1", async () => {
    const { leader, children } = await group();
    const [member = 0] = children;
    expect(signalGroup(member, "SIGTERM")).toBe(false);
    expect(signalGroupOrProcess(member, "SIGKILL")).toBe(true);
    await until(() => !alive(member), "the member gone");
    expect(alive(leader)).toBe(true);
    for (const pid of [0, 1, -1]) expect(signalGroupOrProcess(pid, "SIGTERM")).toBe(false);
    signalGroup(leader, "SIGKILL");
  });

  it("repeats SIGKILL over a list until it names nothing, and sends other signals once", async () => {
    const first = await group();
    const second = await group();
    const pids = [first.leader, ...first.children, second.leader, ...second.children];
    let listed = 0;
    const list = () => {
      listed += 1;
      return pids.filter(alive);
    };
    expect(await signalUntilGone(list, "SIGCONT", { rounds: 10 })).toBe(true);
    expect(listed).toBe(1);
    expect(await signalUntilGone(list, "SIGKILL", { rounds: 50, intervalMs: 10 })).toBe(true);
    expect(pids.filter(alive)).toEqual([]);
  });
});
