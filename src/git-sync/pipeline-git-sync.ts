/**
 * Pipelines from git: keeps the checkout of the configured branch current, on a timer and when a
 * webhook says a push happened, and tells the platform when a new commit is checked out so it
 * loads the pipeline files again (no restart). Syncs never overlap: a request during a sync
 * runs one more sync after it. A failed pull keeps the checkout, and so the pipelines, as they were.
 */
import type { Logger } from "pino";
import { GitCheckout, redactUrl, type GitCommit } from "./git-checkout.js";
import type { GitCredentials } from "./git-command.js";

/** What `pipelines.git` in capstan.yaml asks for. */
export interface PipelineGitSettings {
  url: string;
  branch: string;
  /** Folder of the repository that holds the pipeline files ("" for its root). */
  path: string;
  intervalMs: number;
  /** Folder the checkout lives in. */
  checkoutDir: string;
}

/** The state of the sync, for the API and the UI. */
export interface PipelineGitStatus {
  url: string;
  branch: string;
  path: string;
  commit: GitCommit | undefined;
  /** When the last sync ended, epoch ms. */
  lastSyncAt: number | undefined;
  /** Why the last sync failed; undefined after a good one. */
  lastError: string | undefined;
}

/** Options of {@link PipelineGitSync}. */
export interface PipelineGitSyncOptions {
  settings: PipelineGitSettings;
  credentials?: () => Promise<GitCredentials | undefined>;
  /** Called after a new commit is checked out, or when a pull starts or stops failing (the platform loads the files again and records the error). */
  onChange: (status: PipelineGitStatus) => Promise<void>;
  logger: Logger;
  now?: () => number;
}

/** Keeps one branch's pipeline folder current. */
export class PipelineGitSync {
  readonly checkout: GitCheckout;
  readonly #options: PipelineGitSyncOptions;
  #commit: GitCommit | undefined;
  #lastSyncAt: number | undefined;
  #lastError: string | undefined;
  #running: Promise<PipelineGitStatus> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PipelineGitSyncOptions) {
    this.#options = options;
    const { url, branch, checkoutDir } = options.settings;
    this.checkout = new GitCheckout({ root: checkoutDir, url, branch, ...(options.credentials ? { credentials: options.credentials } : {}) });
  }

  /** The folder the registry loads pipelines from (through the checkout's `current` link). */
  get pipelinesDir(): string {
    const { path } = this.#options.settings;
    return path === "" ? this.checkout.currentDir : `${this.checkout.currentDir}/${path}`;
  }

  /** The commit loaded now, if any. */
  get commit(): GitCommit | undefined {
    return this.#commit;
  }

  status(): PipelineGitStatus {
    const { url, branch, path } = this.#options.settings;
    return { url: redactUrl(url), branch, path, commit: this.#commit, lastSyncAt: this.#lastSyncAt, lastError: this.#lastError };
  }

  /** Reads the commit a previous run left checked out (before the first load). */
  async adoptCheckout(): Promise<void> {
    this.#commit = await this.checkout.currentCommit().catch(() => undefined);
  }

  /** Syncs now, or once more after the sync in progress; resolves with the status after it. */
  sync(trigger: "start" | "timer" | "webhook" | "api"): Promise<PipelineGitStatus> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    const run = async (): Promise<PipelineGitStatus> => {
      try {
        do {
          this.#again = false;
          await this.#syncOnce(trigger);
        } while (this.#again && !this.#closed);
        return this.status();
      } finally {
        this.#running = undefined;
      }
    };
    this.#running = run();
    return this.#running;
  }

  /** Syncs every `intervalMs` until closed. */
  startTimer(): void {
    const tick = (): void => {
      this.#timer = setTimeout(() => {
        this.sync("timer").then(tick, tick);
      }, this.#options.settings.intervalMs);
      this.#timer.unref();
    };
    tick();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  async #syncOnce(trigger: string): Promise<void> {
    const { logger } = this.#options;
    const now = this.#options.now ?? Date.now;
    const errorBefore = this.#lastError;
    let newCommit: GitCommit | undefined;
    try {
      const { commit, changed } = await this.checkout.sync();
      this.#lastError = undefined;
      if (changed || this.#commit?.sha !== commit.sha) {
        newCommit = commit;
        logger.info({ commit: commit.sha, subject: commit.subject, trigger }, "pipelines: checked out a new commit");
      }
    } catch (error) {
      this.#lastError = (error as Error).message;
      logger.error({ trigger }, `pipelines from git: ${this.#lastError}`);
    }
    this.#lastSyncAt = now();
    try {
      if (newCommit !== undefined || this.#lastError !== errorBefore) await this.#options.onChange(this.status());
    } finally {
      // The status names a commit once its files are loaded (and its versions recorded).
      if (newCommit !== undefined) this.#commit = newCommit;
    }
  }
}
