/**
 * Which team a pipeline file that failed to load belongs to, so that its error (paths, messages,
 * positions) is shown only to those who may see that team's pipelines. A broken file may never have
 * loaded, so the team is found in this order:
 *   1. the team of the last good version of a pipeline that file defined (what the database recorded);
 *   2. the team the file names, when it can be read: `team:` at the top of a YAML file (a YAML file
 *      without one belongs to the default team), or the one team a TypeScript file spells out as
 *      `team: "…"`;
 *   3. none — then only admins see the error.
 */
import { stat, readFile } from "node:fs/promises";
import { extname } from "node:path";
import { isMap, isScalar, parseDocument } from "yaml";
import { DEFAULT_TEAM } from "../pipelines/index.js";

/** Files larger than this are not read to find a team (their errors are for admins). */
const MAX_READ_BYTES = 1024 * 1024;

interface StoredPipeline {
  team: string;
  file: string;
  updatedAt: number;
}

/** The team a YAML or TypeScript pipeline text names, or undefined when it cannot be told. */
export function teamNamedIn(file: string, text: string): string | undefined {
  const ext = extname(file);
  if (ext === ".yaml" || ext === ".yml") {
    const doc = parseDocument(text, { uniqueKeys: false });
    if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined;
    const team = doc.contents.get("team", true);
    if (team === undefined) return doc.contents.has("team") ? undefined : DEFAULT_TEAM;
    return isScalar(team) && typeof team.value === "string" && team.value !== "" ? team.value : undefined;
  }
  const named = new Set([...text.matchAll(/\bteam\s*:\s*(["'`])([A-Za-z0-9][A-Za-z0-9_.-]*)\1/g)].map((m) => m[2] ?? ""));
  return named.size === 1 ? [...named][0] : undefined;
}

/** Finds the teams of broken pipeline files, reading each file at most once per change of it. */
export class LoadErrorTeams {
  readonly #cache = new Map<string, { mtimeMs: number; size: number; team: string | undefined }>();

  /** The team of `file`'s error (undefined: admins only), given the pipelines the database knows. */
  async teamOf(file: string, stored: readonly StoredPipeline[]): Promise<string | undefined> {
    let last: StoredPipeline | undefined;
    for (const row of stored) if (row.file === file && (!last || row.updatedAt > last.updatedAt)) last = row;
    if (last) return last.team;
    return this.#named(file);
  }

  async #named(file: string): Promise<string | undefined> {
    let info;
    try {
      info = await stat(file);
    } catch {
      this.#cache.delete(file);
      return undefined;
    }
    const cached = this.#cache.get(file);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.team;
    let team: string | undefined;
    if (info.isFile() && info.size <= MAX_READ_BYTES) {
      try {
        team = teamNamedIn(file, await readFile(file, "utf8"));
      } catch {
        team = undefined;
      }
    }
    if (this.#cache.size > 1000) this.#cache.clear();
    this.#cache.set(file, { mtimeMs: info.mtimeMs, size: info.size, team });
    return team;
  }
}
