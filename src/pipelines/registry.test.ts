import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PipelineRegistry } from "./registry.js";

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "capstan-registry-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe("PipelineRegistry", () => {
  it("loads YAML files, pipeline folders and TypeScript files written with the capstan helpers", async () => {
    const dir = folder({
      "a.yaml": "id: a\ntasks:\n  t: { command: 'true' }\n",
      "b/pipeline.yaml": "id: b\ntasks:\n  t: { python: run.py }\n",
      "c.ts": `import { pipeline } from "capstan";\nconst width = 3;\nexport default pipeline({ id: "c", tasks: Object.fromEntries(Array.from({ length: width }, (_, i) => [\`t\${i}\`, { command: ["echo", String(i)] }])) });\n`,
      "notes.txt": "not a pipeline",
    });
    const registry = new PipelineRegistry({ paths: [dir] });
    const change = await registry.load();
    expect(change.errors).toEqual([]);
    expect(registry.list().map((p) => p.spec.id)).toEqual(["a", "b", "c"]);
    expect(registry.get("b")?.baseDir).toBe(join(dir, "b"));
    expect(registry.get("c")?.spec.taskOrder).toEqual(["t0", "t1", "t2"]);
  });

  it("reports a TypeScript file's errors by task and field", async () => {
    const dir = folder({ "c.ts": `import { pipeline } from "capstan";\nexport default pipeline({ id: "c", tasks: { t: { command: "true", retries: -1 } } });\n` });
    const registry = new PipelineRegistry({ paths: [dir] });
    await registry.load();
    expect(registry.errors()[0]?.message).toBe(`${join(dir, "c.ts")}: tasks.t.retries: retries must be a whole number ≥ 0`);
  });

  it("refuses a second file with the same pipeline id, naming both", async () => {
    const dir = folder({ "one.yaml": "id: same\ntasks:\n  t: { command: 'true' }\n", "two.yaml": "# the copy\ntasks:\n  t: { command: 'true' }\nid:   same\n" });
    const registry = new PipelineRegistry({ paths: [dir] });
    await registry.load();
    expect(registry.list()).toHaveLength(1);
    expect(registry.errors()[0]?.message).toBe(`${join(dir, "two.yaml")}:4:7: id: duplicate pipeline id "same": ${join(dir, "one.yaml")}:1:5 defines it too`);
  });

  it("keeps the last good version of a pipeline whose file breaks, and drops one whose file is removed", async () => {
    const dir = folder({ "p.yaml": "id: p\ntasks:\n  t: { command: 'true' }\n", "q.yaml": "id: q\ntasks:\n  t: { command: 'true' }\n" });
    const registry = new PipelineRegistry({ paths: [dir] });
    await registry.load();
    const good = registry.get("p")?.version;
    writeFileSync(join(dir, "p.yaml"), "id: p\ntasks:\n  t: { command: 'true', depends_on: [t] }\n");
    const { rmSync } = await import("node:fs");
    rmSync(join(dir, "q.yaml"));
    const change = await registry.load();
    expect(registry.get("p")?.version).toBe(good);
    expect(change.errors[0]?.message).toContain("a task cannot depend on itself");
    expect(change.removed).toEqual(["q"]);
  });

  it("reports a TypeScript file that loops at import with its name and the limit, and loads every other file", async () => {
    const good = `import { pipeline } from "capstan";\nexport default pipeline({ id: "good", tasks: { t: { command: "true" } } });\n`;
    const dir = folder({
      "a-loop.ts": `import { pipeline } from "capstan";\nwhile (true) {}\nexport default pipeline({ id: "loop", tasks: { t: { command: "true" } } });\n`,
      "b-good.ts": good,
      "c-wait.ts": `await new Promise(() => setInterval(() => {}, 1000));\nexport default {};\n`,
      "d-exit.ts": `process.exit(3);\n`,
      "e-func.ts": `export default { id: "func", tasks: { t: { command: "true" } }, hook: () => 1 };\n`,
      "f.yaml": "id: f\ntasks:\n  t: { command: 'true' }\n",
    });
    const registry = new PipelineRegistry({ paths: [dir], loadTimeoutMs: 4000 });
    const change = await registry.load();
    expect(registry.list().map((p) => p.spec.id)).toEqual(["f", "good"]);
    expect(change.errors.map((e) => e.message)).toEqual([
      `${join(dir, "a-loop.ts")}: did not finish loading within 4s (the pipeline_load_timeout setting); a file that loops or waits at import never finishes`,
      `${join(dir, "c-wait.ts")}: did not finish loading within 4s (the pipeline_load_timeout setting); a file that loops or waits at import never finishes`,
      `${join(dir, "d-exit.ts")}: ended the loader while loading (exit code 3); a pipeline file must not call process.exit`,
      expect.stringMatching(new RegExp(`^${join(dir, "e-func.ts")}: the default export is not plain data`)),
    ]);
    // The registry keeps working: a fixed file loads on the next load, with the same limit.
    writeFileSync(join(dir, "a-loop.ts"), good.replace('"good"', '"fixed"'));
    rmSync(join(dir, "c-wait.ts"));
    await registry.load();
    expect(registry.list().map((p) => p.spec.id)).toEqual(["f", "fixed", "good"]);
    expect(registry.errors().map((e) => e.file)).toEqual([join(dir, "d-exit.ts"), join(dir, "e-func.ts")]);
  });
});
