/**
 * Sandboxes' model without starting anything: names that cannot collide, profiles and quotas from
 * capstan.yaml, who may do what, delete only with confirmation, and errors that name the field.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SandboxConflictError, SandboxForbiddenError, SandboxInputError, SandboxNotFoundError, SandboxQuotaError } from "../../src/sandboxes/index.js";
import { openSandboxWorld, type SandboxWorld } from "./sandbox-fixture.js";

let world: SandboxWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function fieldOf(promise: Promise<unknown>): Promise<{ name: string; field: string | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { field?: string };
    return { name: e.name, field: e.field, message: e.message };
  }
  throw new Error("expected an error");
}

describe("sandbox lifecycle service", () => {
  it("creates a stopped sandbox in the user's only team with the default profile", async () => {
    world = await openSandboxWorld();
    const ann = await world.user("ann", { ml: "editor" });
    const sandbox = await world.service.create(ann, { name: "lab" });
    expect(sandbox).toMatchObject({ owner: "ann", team: "ml", name: "lab", profile: "default", state: "stopped", reason: null, stopsAt: null });
    expect(sandbox.id).toMatch(/^s[a-z2-7]{16}$/);
    expect(JSON.stringify(sandbox)).not.toMatch(/token|upstream|runtime/i);
  });

  it("refuses names that differ only by case or by look-alike letters, naming the field", async () => {
    world = await openSandboxWorld();
    const ann = await world.user("ann", { ml: "editor" });
    await world.service.create(ann, { name: "lab" });
    expect(await fieldOf(world.service.create(ann, { name: "Lab" }))).toMatchObject({ name: "SandboxInputError", field: "name", message: expect.stringContaining('did you mean "lab"') as unknown });
    expect(await fieldOf(world.service.create(ann, { name: "l\u0430b" }))).toMatchObject({ name: "SandboxInputError", field: "name", message: expect.stringContaining("ASCII") as unknown });
    expect(await fieldOf(world.service.create(ann, { name: "lab" }))).toMatchObject({ name: "SandboxConflictError", field: "name" });
    for (const bad of ["a/b", "a_b", "-a", "a-", "", "x".repeat(33), 7]) expect((await fieldOf(world.service.create(ann, { name: bad }))).field).toBe("name");
  });

  it("keeps user a-b and user a with sandbox b apart: different ids, homes and rows", async () => {
    world = await openSandboxWorld();
    const ab = await world.user("a-b", { ml: "editor" });
    const a = await world.user("a", { ml: "editor" });
    const first = await world.service.create(ab, { name: "lab" });
    const second = await world.service.create(a, { name: "b-lab" });
    expect(first.id).not.toBe(second.id);
    expect(world.backend.homeOf(first.id)).not.toBe(world.backend.homeOf(second.id));
  });

  it("names the field for an unknown profile, a GPU this machine lacks, and a team the user is not in", async () => {
    world = await openSandboxWorld({ config: { profiles: { cpu: {}, gpu: { gpu: 1 } } } });
    const ann = await world.user("ann", { ml: "editor", cv: "editor" });
    expect(await fieldOf(world.service.create(ann, { name: "a", team: "ml", profile: "huge" }))).toMatchObject({ field: "profile", message: expect.stringContaining("cpu, gpu") as unknown });
    expect(await fieldOf(world.service.create(ann, { name: "a", team: "ml", profile: "gpu" }))).toMatchObject({ field: "profile", message: expect.stringContaining("has none") as unknown });
    expect(await fieldOf(world.service.create(ann, { name: "a" }))).toMatchObject({ field: "team", message: expect.stringContaining("several teams") as unknown });
    expect(await fieldOf(world.service.create(ann, { name: "a", team: "ops" }))).toMatchObject({ field: "team" });
  });

  it("refuses a sandbox over the team's quota, naming quota.sandboxes", async () => {
    world = await openSandboxWorld({ config: { quotas: { default: { sandboxes: 5 }, ml: { sandboxes: 1 } } } });
    const ann = await world.user("ann", { ml: "editor" });
    const bob = await world.user("bob", { ml: "editor" });
    await world.service.create(ann, { name: "one" });
    const error = await fieldOf(world.service.create(bob, { name: "two" }));
    expect(error).toMatchObject({ name: "SandboxQuotaError", field: "quota.sandboxes" });
    expect(error.message).toContain("team ml has 1 of its 1 sandboxes");
  });

  it("refuses a GPU start over the team's GPU quota, naming quota.gpus", async () => {
    world = await openSandboxWorld({ config: { profiles: { gpu: { gpu: 1 } }, quotas: { ml: { gpus: 0 } } }, localGpus: 1 });
    const ann = await world.user("ann", { ml: "editor" });
    const sandbox = await world.service.create(ann, { name: "gpu-lab" });
    await expect(world.service.start(ann, sandbox.id)).rejects.toBeInstanceOf(SandboxQuotaError);
    expect((await world.service.get(ann, sandbox.id)).state).toBe("stopped");
  });

  it("lets viewers of the team see a sandbox but only its owner start, stop or delete it", async () => {
    world = await openSandboxWorld();
    const ann = await world.user("ann", { ml: "editor" });
    const bob = await world.user("bob", { ml: "viewer" });
    const eve = await world.user("eve", { cv: "editor" });
    const sandbox = await world.service.create(ann, { name: "lab" });
    expect((await world.service.list(bob)).map((s) => s.name)).toEqual(["lab"]);
    await expect(world.service.start(bob, sandbox.id)).rejects.toBeInstanceOf(SandboxForbiddenError);
    await expect(world.service.delete(bob, sandbox.id, { confirm: "lab" })).rejects.toBeInstanceOf(SandboxForbiddenError);
    await expect(world.service.get(eve, sandbox.id)).rejects.toBeInstanceOf(SandboxNotFoundError);
    expect(await world.service.list(eve)).toEqual([]);
    await expect(world.service.create(bob, { name: "mine" })).rejects.toThrow(/viewer of team ml and cannot create sandboxes/);
  });

  it("deletes only with the sandbox's name as confirmation", async () => {
    world = await openSandboxWorld();
    const ann = await world.user("ann", { ml: "editor" });
    const sandbox = await world.service.create(ann, { name: "lab" });
    const error = await fieldOf(world.service.delete(ann, sandbox.id, {}));
    expect(error).toMatchObject({ name: "SandboxInputError", field: "confirm" });
    await expect(world.service.delete(ann, sandbox.id, { confirm: "other" })).rejects.toBeInstanceOf(SandboxInputError);
    await world.service.delete(ann, sandbox.id, { confirm: "lab" });
    await expect(world.service.get(ann, sandbox.id)).rejects.toBeInstanceOf(SandboxNotFoundError);
  });

  it("refuses a start while another start is not over, without a second launch", async () => {
    world = await openSandboxWorld();
    const ann = await world.user("ann", { ml: "editor" });
    const sandbox = await world.service.create(ann, { name: "lab" });
    await world.store.sandboxes.move(sandbox.id, ["stopped"], "stopping", {}, Date.now());
    await expect(world.service.start(ann, sandbox.id)).rejects.toBeInstanceOf(SandboxConflictError);
  });
});
