/** Capstan's version, recorded in `metadata.papermill.version` of the notebooks it runs. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The version in the project's package.json ("unknown" if it cannot be read). */
export function capstanVersion(): string {
  if (cached === undefined) {
    try {
      const manifest = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "package.json"), "utf8")) as { version?: string };
      cached = `capstan-${manifest.version ?? "unknown"}`;
    } catch {
      cached = "capstan-unknown";
    }
  }
  return cached;
}
