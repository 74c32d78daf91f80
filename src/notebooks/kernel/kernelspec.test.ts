/** Kernelspecs are found on the Jupyter data paths in jupyter_client's order; an unknown name lists what was found and where. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelNotFoundError, KernelSpecError } from "../errors.js";
import { findKernelSpec, jupyterDataPaths, listKernelSpecs } from "./kernelspec.js";

let root: string;

async function addSpec(dataDir: string, name: string, spec: unknown): Promise<void> {
  await mkdir(join(dataDir, "kernels", name), { recursive: true });
  await writeFile(join(dataDir, "kernels", name, "kernel.json"), JSON.stringify(spec));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "capstan-kernelspec-"));
  await addSpec(join(root, "first"), "Demo", { argv: ["first", "{connection_file}"], display_name: "First", language: "demo" });
  await addSpec(join(root, "second"), "demo", { argv: ["second"], display_name: "Second", language: "demo" });
  await addSpec(join(root, "second"), "other", { argv: ["other"], display_name: "Other", language: "x", interrupt_mode: "message", env: { A: "1" } });
  await addSpec(join(root, "second"), "broken", { display_name: "no argv" });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  return { JUPYTER_PATH: `${join(root, "first")}:${join(root, "second")}`, HOME: join(root, "home") };
}

describe("kernelspec discovery", () => {
  it("searches JUPYTER_PATH first, then the Python prefix, then the user and system dirs", () => {
    const paths = jupyterDataPaths({ env: env(), python: "/opt/venv/bin/python" });
    expect(paths.slice(0, 3)).toEqual([join(root, "first"), join(root, "second"), "/opt/venv/share/jupyter"]);
    expect(paths).toContain(join(root, "home", ".local", "share", "jupyter"));
    expect(paths.slice(-2)).toEqual(["/usr/local/share/jupyter", "/usr/share/jupyter"]);
  });

  it("takes the first spec of a name, case-insensitively", async () => {
    const spec = await findKernelSpec("DEMO", { env: env() });
    expect(spec.displayName).toBe("First");
    expect(spec.resourceDir).toBe(join(root, "first", "kernels", "Demo"));
    expect((await listKernelSpecs({ env: env() })).filter((found) => found.name === "demo")).toHaveLength(1);
  });

  it("reads interrupt_mode and env", async () => {
    const spec = await findKernelSpec("other", { env: env() });
    expect(spec.interruptMode).toBe("message");
    expect(spec.env).toEqual({ A: "1" });
  });

  it("lists the kernels found and the directories searched for an unknown name", async () => {
    const error = await findKernelSpec("nope", { env: env() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KernelNotFoundError);
    const message = (error as Error).message;
    expect(message).toContain("no kernel named 'nope'");
    expect(message).toContain(`demo (${join(root, "first", "kernels", "Demo")})`);
    expect(message).toContain(`other (${join(root, "second", "kernels", "other")})`);
    expect(message).toContain(`searched ${join(root, "first")}/kernels`);
  });

  it("says what is wrong with a kernel.json", async () => {
    await expect(findKernelSpec("broken", { env: env() })).rejects.toThrow(KernelSpecError);
    await expect(findKernelSpec("broken", { env: env() })).rejects.toThrow(/"argv" must be a non-empty list of strings/);
  });

  it("falls back to the given Python's ipykernel for an unregistered python3 kernel, and python is python3", async () => {
    for (const name of ["python3", "python"]) {
      const spec = await findKernelSpec(name, { env: env(), python: "/nowhere/bin/python", projectVenv: false });
      expect(spec.argv, name).toEqual(["/nowhere/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]);
      expect(spec.name, name).toBe("python3");
    }
  });
});
