/**
 * Saves the output notebook while it runs without papermill's O(cells²) cost: small notebooks
 * are saved after every cell, large ones at most every `intervalMs`, always once at the end.
 * Saves never overlap, and only changed cells are re-encoded.
 */
import { OutputNotWritableError } from "../errors.js";
import type { Notebook, NotebookCell } from "../nbformat/notebook.js";
import { NotebookSerializer, writeTextAtomically } from "../nbformat/write-notebook.js";

/** Options of {@link NotebookSaver}. */
export interface NotebookSaverOptions {
  /** where to write; "-" keeps the notebook in memory (written to stdout once at the end) */
  path: string;
  /** minimum time between saves of a large notebook (default 2000 ms) */
  intervalMs?: number;
  /** notebooks whose last save was smaller than this are saved after every cell (default 256 KiB) */
  smallBytes?: number;
  /** how often to save during a long cell (default `intervalMs`); 0: never during a cell */
  autosaveMs?: number;
  /** writes the text somewhere other than a local file (an s3:// object, a volume); throws OutputNotWritableError */
  write?: ((text: string) => Promise<void>) | undefined;
}

/** Batched, ordered saves of one notebook. */
export class NotebookSaver {
  private readonly serializer = new NotebookSerializer();
  private readonly intervalMs: number;
  private readonly smallBytes: number;
  private readonly autosaveMs: number;
  private lastSave = 0;
  private lastBytes = 0;
  private dirty = true;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  /** how many times the file was written */
  saves = 0;

  constructor(private readonly notebook: Notebook, private readonly options: NotebookSaverOptions) {
    this.intervalMs = options.intervalMs ?? 2000;
    this.smallBytes = options.smallBytes ?? 256 * 1024;
    this.autosaveMs = options.autosaveMs ?? this.intervalMs;
  }

  /** Records that a cell changed (its cached text is dropped). */
  changed(cell?: NotebookCell): void {
    if (cell) {
      this.serializer.invalidate(cell);
    }
    this.dirty = true;
  }

  /** Records that cells were added, removed or replaced. */
  changedAll(): void {
    for (const cell of this.notebook.cells) {
      this.serializer.invalidate(cell);
    }
    this.dirty = true;
  }

  /** Saves now, waiting for earlier saves; throws {@link OutputNotWritableError} on failure. */
  async save(): Promise<void> {
    this.chain = this.chain.then(() => this.write());
    await this.chain;
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
  }

  /** Saves after a cell when the notebook is small or the interval has passed. */
  async saveAfterCell(): Promise<void> {
    if (this.lastBytes < this.smallBytes || Date.now() - this.lastSave >= this.intervalMs) {
      await this.save();
    }
  }

  /** Starts a background save during a long cell when the interval has passed. */
  autosave(): void {
    if (this.autosaveMs > 0 && this.dirty && Date.now() - this.lastSave >= this.autosaveMs) {
      this.lastSave = Date.now();
      this.chain = this.chain.then(() => this.write());
    }
  }

  /** The notebook as it would be written now. */
  text(): string {
    return this.serializer.serialize(this.notebook);
  }

  private async write(): Promise<void> {
    if (this.options.path === "-") {
      this.dirty = false;
      return;
    }
    const text = this.serializer.serialize(this.notebook);
    this.dirty = false;
    try {
      if (this.options.write !== undefined) await this.options.write(text);
      else await writeTextAtomically(this.options.path, text);
      this.saves += 1;
      this.lastBytes = Buffer.byteLength(text);
    } catch (error) {
      this.failure = error instanceof OutputNotWritableError ? error : new OutputNotWritableError(this.options.path, { cause: error });
    }
    this.lastSave = Date.now();
  }
}
