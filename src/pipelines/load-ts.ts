/**
 * Loads a TypeScript pipeline file: its default export is a definition built with the helpers of the
 * `capstan` package (`pipeline({...})`), validated exactly like YAML. Imports of "capstan" resolve to
 * this installation, so pipeline folders need no node_modules of their own.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createJiti } from "jiti";
import { PipelineFileError } from "./errors.js";
import type { PipelineSpec } from "./model.js";
import { validateDefinition, type SpecCheck } from "./validate.js";

function packageEntry(): string {
  const js = fileURLToPath(new URL("../index.js", import.meta.url));
  if (existsSync(js)) return js;
  return fileURLToPath(new URL("../index.ts", import.meta.url));
}

/** Imports and validates a TypeScript pipeline file; throws PipelineFileError naming task and field. */
export async function loadTsPipeline(file: string, check?: SpecCheck): Promise<PipelineSpec> {
  const jiti = createJiti(import.meta.url, {
    alias: { capstan: packageEntry() },
    moduleCache: false,
    fsCache: false,
    interopDefault: true,
  });
  let exported: unknown;
  try {
    exported = await jiti.import(file, { default: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] ?? String(error) : String(error);
    throw new PipelineFileError(file, [{ path: [], message: `cannot load the TypeScript file: ${message}` }], { cause: error });
  }
  if (exported === undefined) {
    throw new PipelineFileError(file, [{ path: [], message: "the file has no default export; write `export default pipeline({ id, tasks })` with `import { pipeline } from \"capstan\"`" }]);
  }
  const result = validateDefinition(exported, check);
  if (result.ok) return result.spec;
  throw new PipelineFileError(file, result.issues);
}
