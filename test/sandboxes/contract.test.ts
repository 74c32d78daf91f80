/**
 * The sandbox backend contract: the same cases for every backend, through the lifecycle service.
 * `local` runs real JupyterLab and real kernels; `kubernetes` runs on the test control plane, where
 * kwok plays the kubelet: pods reach Running and Ready but no container runs, so no JupyterLab
 * answers there. Cases that need a JupyterLab answering are marked `needsRuntime` and run for
 * `local` only; states, objects, adoption, stop with the home kept, delete and failure reasons run
 * for both. Start answers with the upstream token only; a cell runs in the sandbox's home; stop ends
 * kernels too and keeps the home; a restarted Capstan adopts a running sandbox; a crash is a failure
 * with a reason; team volumes are shared; idle sandboxes stop and the owner's traffic keeps them alive.
 * The `kubernetes` half needs the test control plane, which the global setup starts.
 */
import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pidsWithToken } from "../../src/executors/local/index.js";
import { IdleCuller, LocalSandboxBackend, type SandboxService, type SandboxTarget } from "../../src/sandboxes/index.js";
import { execute, openKernelSocket, startKernel } from "./jupyter-client.js";
import { homeClaim, openKubeSandboxWorld, sandboxPod, type KubeSandboxWorld } from "./kubernetes/kube-sandbox-world.js";
import { openSandboxWorld, sandboxPython, type SandboxWorld, type SandboxWorldOptions } from "./sandbox-fixture.js";

/** One backend as the contract sees it. */
interface Target {
  name: string;
  /** Whether a real JupyterLab answers (false on the Kubernetes test plane, where kwok runs no container). */
  runtime: boolean;
  world(options?: SandboxWorldOptions): Promise<SandboxWorld>;
  /** The home of a sandbox as the test machine sees it (to plant and read files; runtime targets only). */
  home(world: SandboxWorld, id: string): string;
  /** Whether the sandbox's home (folder or volume claim) exists. */
  homeExists(world: SandboxWorld, id: string): Promise<boolean>;
  /** Makes the running sandbox's server die as a crash would. */
  crash(world: SandboxWorld, id: string): Promise<void>;
  /** No process (or pod) of the sandbox is left. */
  gone(world: SandboxWorld, id: string): Promise<boolean>;
  /** A world whose sandboxes cannot start, and the reason the failure carries. */
  unstartable: { options: SandboxWorldOptions; reason: RegExp };
}

const local: Target = {
  name: "local",
  runtime: true,
  world: (options) => openSandboxWorld(options),
  home: (world, id) => world.backend.homeOf(id),
  homeExists: (world, id) => Promise.resolve(existsSync(world.backend.homeOf(id))),
  async crash(world, id) {
    const row = await world.store.sandboxes.get(id);
    const { pid } = JSON.parse(row!.runtime!) as { pid: number };
    process.kill(-pid, "SIGKILL");
  },
  async gone(_world, id) {
    return (await pidsWithToken(`sandbox-${id}`)).length === 0;
  },
  unstartable: {
    options: { backend: (root) => new LocalSandboxBackend({ root, python: join(realpathSync(sandboxPython()), "..", "no-such-python") }) },
    reason: /^crash: /,
  },
};

const kubeWorld = (world: SandboxWorld) => world as KubeSandboxWorld;

const kubernetes: Target = {
  name: "kubernetes",
  runtime: false,
  world: (options) => openKubeSandboxWorld(options),
  home: () => {
    throw new Error("the home of a Kubernetes sandbox is a volume claim, not a folder of this machine");
  },
  homeExists: async (world, id) => (await homeClaim(kubeWorld(world).kube, id)) !== undefined,
  async crash(world, id) {
    const { steerPod } = await import("../kube/executor/kube-harness.js");
    await steerPod(kubeWorld(world).kube, "capstan-cpu", `sandbox-${id}`, { outcome: "fail", exitCode: 1 });
  },
  gone: async (world, id) => (await sandboxPod(kubeWorld(world).kube, id)) === undefined,
  unstartable: { options: { outcome: "image-pull-error" } as SandboxWorldOptions, reason: /^image_pull: ErrImagePull: image registry\.example/ },
};

const targets = [local, kubernetes];

const auth = (target: SandboxTarget) => ({ headers: { authorization: `token ${target.token}` } });

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const target of targets) {
  /** A case that needs a JupyterLab answering: defined only for backends that run one here. */
  const needsRuntime = (name: string, body: () => Promise<void>) => {
    if (target.runtime) it(name, body);
  };
  describe(`sandbox backend contract: ${target.name}`, () => {
    let world: SandboxWorld | undefined;
    afterEach(async () => {
      await world?.close();
      world = undefined;
    });

    needsRuntime("starts JupyterLab that answers only with its token, runs a cell in the home, stops kernels with it and keeps the home", async () => {
      world = await target.world();
      const ann = await world.user("ann", { ml: "editor" });
      const created = await world.service.create(ann, { name: "lab" });
      const running = await world.service.start(ann, created.id);
      expect(running).toMatchObject({ state: "running", reason: null });
      const upstream = (await world.service.target(created.id))!;
      expect((await fetch(new URL("api/status", upstream.upstream))).status).toBe(403);
      const lab = await fetch(new URL("lab", upstream.upstream), auth(upstream));
      expect(lab.status).toBe(200);
      expect(await lab.text()).not.toContain(upstream.token);

      const kernel = await startKernel(upstream.upstream, auth(upstream));
      const socket = await openKernelSocket(upstream.upstream, kernel, auth(upstream));
      const home = await execute(socket, "import os; open('notes.txt', 'w').write('kept'); print(os.environ['HOME'], os.getcwd(), 'CAPSTAN_DATABASE_URL' in os.environ)");
      socket.close();
      const expected = realpathSync(target.home(world, created.id));
      expect(home.trim()).toBe(`${expected} ${expected} False`);

      const stopped = await world.service.stop(ann, created.id);
      expect(stopped.state).toBe("stopped");
      expect(await target.gone(world, created.id)).toBe(true);
      expect(await world.service.target(created.id)).toBeUndefined();
      expect(readFileSync(join(target.home(world, created.id), "notes.txt"), "utf8")).toBe("kept");

      const again = await world.service.start(ann, created.id);
      expect(again.state).toBe("running");
      const next = (await world.service.target(created.id))!;
      expect(next.token).not.toBe(upstream.token);
      const file = await fetch(new URL("api/contents/notes.txt?content=1", next.upstream), auth(next));
      expect(((await file.json()) as { content: string }).content).toBe("kept");
    });

    it("runs, stops with its home kept, starts again with a new upstream token, and is deleted with its home only when confirmed", async () => {
      world = await target.world();
      const ann = await world.user("ann", { ml: "editor" });
      const { id } = await world.service.create(ann, { name: "lab" });
      expect((await world.service.start(ann, id)).state).toBe("running");
      const first = (await world.service.target(id))!;
      expect(first.upstream).toMatch(/^http:\/\//);
      expect(await target.homeExists(world, id)).toBe(true);
      expect((await world.service.stop(ann, id)).state).toBe("stopped");
      expect(await target.gone(world, id)).toBe(true);
      expect(await target.homeExists(world, id)).toBe(true);
      expect((await world.service.start(ann, id)).state).toBe("running");
      expect((await world.service.target(id))!.token).not.toBe(first.token);
      await expect(world.service.delete(ann, id, { confirm: "lab" })).rejects.toMatchObject({ field: "state" });
      await world.service.stop(ann, id);
      await expect(world.service.delete(ann, id, {})).rejects.toMatchObject({ field: "confirm" });
      expect(await target.homeExists(world, id)).toBe(true);
      await world.service.delete(ann, id, { confirm: "lab" });
      await eventually(async () => ((await target.homeExists(world!, id)) ? undefined : true));
    });

    it("is adopted by a restarted Capstan, which can stop it", async () => {
      world = await target.world();
      const ann = await world.user("ann", { ml: "editor" });
      const { id } = await world.service.create(ann, { name: "lab" });
      await world.service.start(ann, id);
      const before = (await world.service.target(id))!;
      const restarted: SandboxService = await world.reopen();
      expect((await restarted.get(ann, id)).state).toBe("running");
      const after = (await restarted.target(id))!;
      expect(after.upstream).toBe(before.upstream);
      if (target.runtime) expect((await fetch(new URL("api/status", after.upstream), auth(after))).status).toBe(200);
      expect((await restarted.stop(ann, id)).state).toBe("stopped");
      expect(await target.gone(world, id)).toBe(true);
    });

    it("records a crash as failed with a reason, and starts again from failed", async () => {
      world = await target.world();
      const ann = await world.user("ann", { ml: "editor" });
      const { id } = await world.service.create(ann, { name: "lab" });
      await world.service.start(ann, id);
      await target.crash(world, id);
      const failed = await eventually(async () => {
        const view = await world!.service.get(ann, id);
        return view.state === "failed" ? view : undefined;
      });
      expect(failed.reason).toMatch(/^crash: JupyterLab exited/);
      expect((await world.service.start(ann, id)).state).toBe("running");
    });

    needsRuntime("gives the team's sandboxes the same shared folder at ~/shared/NAME", async () => {
      world = await target.world({ config: { profiles: { team: { volumes: ["data"] } } } });
      const ann = await world.user("ann", { ml: "editor" });
      const bob = await world.user("bob", { ml: "editor" });
      const a = await world.service.create(ann, { name: "lab" });
      const b = await world.service.create(bob, { name: "lab" });
      // Two sandboxes of their own, started side by side (each mostly waits for its JupyterLab).
      await Promise.all([world.service.start(ann, a.id), world.service.start(bob, b.id)]);
      const ta = (await world.service.target(a.id))!;
      const tb = (await world.service.target(b.id))!;
      const put = await fetch(new URL("api/contents/shared/data/hello.txt", ta.upstream), {
        method: "PUT",
        headers: { ...auth(ta).headers, "content-type": "application/json" },
        body: JSON.stringify({ type: "file", format: "text", content: "from ann" }),
      });
      expect(put.status).toBeLessThan(300);
      const read = await fetch(new URL("api/contents/shared/data/hello.txt?content=1", tb.upstream), auth(tb));
      expect(((await read.json()) as { content: string }).content).toBe("from ann");
    });

    it("stops a sandbox idle past its profile's timeout (home kept), and the owner's traffic keeps it alive", async () => {
      world = await target.world({ config: { profiles: { quick: { idle_timeout: "2s" } } }, service: { activityWriteMs: 100 } });
      const ann = await world.user("ann", { ml: "editor" });
      const idle = await world.service.create(ann, { name: "idle" });
      const used = await world.service.create(ann, { name: "used" });
      await Promise.all([world.service.start(ann, idle.id), world.service.start(ann, used.id)]);
      if (target.runtime) writeFileSync(join(target.home(world, idle.id), "work.py"), "x = 1\n");
      const culler = new IdleCuller(world.service);
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 600));
        await world.service.recordActivity(used.id);
      }
      expect(await culler.cull()).toEqual([idle.id]);
      expect((await world.service.get(ann, idle.id)).state).toBe("stopped");
      expect((await world.service.get(ann, used.id)).state).toBe("running");
      if (target.runtime) expect(existsSync(join(target.home(world, idle.id), "work.py"))).toBe(true);
      expect(await target.homeExists(world, idle.id)).toBe(true);
      expect(await target.gone(world, idle.id)).toBe(true);
      await culler.close();
    });

    it("fails with the reason when JupyterLab cannot start, and leaves nothing running", async () => {
      world = await target.world(target.unstartable.options);
      const ann = await world.user("ann", { ml: "editor" });
      const { id } = await world.service.create(ann, { name: "lab" });
      const failed = await world.service.start(ann, id);
      expect(failed.state).toBe("failed");
      expect(failed.reason).toMatch(target.unstartable.reason);
      expect(await target.gone(world, id)).toBe(true);
    });
  });
}
