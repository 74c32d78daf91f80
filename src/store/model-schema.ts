/** The model registry's tables: a model (its name and team), its versions with their lineage, and its aliases. */

export interface ModelsTable {
  /** Unique across teams, so a served name never means two things. */
  name: string;
  team: string;
  createdAt: number;
}

export interface ModelVersionsTable {
  name: string;
  /** 1, 2, 3, … per model. */
  version: number;
  /** "mar" (a .mar file) or "dir" (a model folder laid out like one). */
  kind: string;
  /** sha256 of the archive file, or of the folder's sorted paths and contents. */
  sha256: string;
  /** Where the copy lies, relative to the home. */
  artifactPath: string;
  /** Where it was registered from. */
  sourcePath: string;
  sizeBytes: number;
  runId: string | null;
  taskId: string | null;
  /** The run's params as JSON, or null without a run. */
  params: string | null;
  /** The numeric outputs the task reported, as JSON, or null without a task. */
  metrics: string | null;
  createdBy: string | null;
  createdAt: number;
}

export interface ModelAliasesTable {
  name: string;
  alias: string;
  version: number;
  updatedAt: number;
}
