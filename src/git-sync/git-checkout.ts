/**
 * A local checkout of one branch of a git repository, updated the way git-sync does it: fetch the
 * branch's head (shallow), check the commit out into its own folder, then point the `current` link
 * at it with one atomic rename. Readers see either the old commit's files or the new one's, never
 * a mix; the previous checkout is kept for tasks still using it, older ones are removed.
 *
 *   ROOT/repo/          the git repository (objects only matter)
 *   ROOT/rev-<sha>/     one worktree per commit
 *   ROOT/current  ->    rev-<sha> of the newest good fetch
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readlink, rename, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { GitCommandError, gitEnv, runGit, type GitCredentials } from "./git-command.js";

/** A commit that the checkout holds. */
export interface GitCommit {
  sha: string;
  subject: string;
  author: string;
  /** Commit time, epoch milliseconds. */
  committedAt: number;
}

/** The result of a sync. */
export interface GitSyncResult {
  commit: GitCommit;
  /** False when the branch's head was already checked out. */
  changed: boolean;
}

/** Where the repository is and how to reach it. */
export interface GitCheckoutOptions {
  /** Folder the checkout lives in (made when missing). */
  root: string;
  url: string;
  branch: string;
  /** Fetched when a sync starts (from the secret store); undefined: none. */
  credentials?: () => Promise<GitCredentials | undefined>;
}

/** A fetch that failed, with what to check. */
export class GitSyncError extends Error {
  override readonly name = "GitSyncError";
}

/** The commit of a file inside a checkout's `rev-<sha>` folder, else null. */
export function checkoutCommitOf(file: string): string | null {
  return /\/rev-([0-9a-f]{40,64})\//.exec(file)?.[1] ?? null;
}

/** The URL with any password in it replaced, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]+):[^/@]*@/i, "$1:***@");
}

/** One branch of one repository, checked out under `root`. */
export class GitCheckout {
  readonly #options: GitCheckoutOptions;
  readonly #repo: string;

  constructor(options: GitCheckoutOptions) {
    this.#options = options;
    this.#repo = join(options.root, "repo");
  }

  /** The folder of the current commit's files (through the `current` link). */
  get currentDir(): string {
    return join(this.#options.root, "current");
  }

  /** The commit `current` points at, or undefined before the first good sync. */
  async currentCommit(): Promise<GitCommit | undefined> {
    const sha = await this.#currentSha();
    if (sha === undefined || !existsSync(this.#repo)) return undefined;
    return this.#describe(sha, gitEnv());
  }

  /** Fetches the branch and checks its head out when it moved. */
  async sync(): Promise<GitSyncResult> {
    const { root, url, branch } = this.#options;
    const env = gitEnv(await this.#options.credentials?.());
    await mkdir(root, { recursive: true });
    if (!existsSync(join(this.#repo, ".git"))) {
      await rm(this.#repo, { recursive: true, force: true });
      await runGit(["init", "--quiet", this.#repo], { cwd: root, env });
    }
    try {
      await runGit(["fetch", "--quiet", "--depth", "1", "--no-tags", "--", url, `+refs/heads/${branch}:refs/capstan/sync`], { cwd: this.#repo, env });
    } catch (error) {
      throw this.#fetchError(error);
    }
    const sha = (await runGit(["rev-parse", "--verify", "refs/capstan/sync^{commit}"], { cwd: this.#repo, env })).trim();
    const commit = await this.#describe(sha, env);
    if ((await this.#currentSha()) === sha && existsSync(this.#revDir(sha))) return { commit, changed: false };
    if (!existsSync(this.#revDir(sha))) {
      await runGit(["worktree", "prune"], { cwd: this.#repo, env });
      await runGit(["worktree", "add", "--quiet", "--detach", "--force", this.#revDir(sha), sha], { cwd: this.#repo, env });
    }
    const previous = await this.#currentSha();
    const link = join(root, `current.${process.pid}.tmp`);
    await rm(link, { force: true });
    await symlink(`rev-${sha}`, link);
    await rename(link, this.currentDir);
    await this.#prune([sha, ...(previous === undefined ? [] : [previous])], env);
    return { commit, changed: true };
  }

  #revDir(sha: string): string {
    return join(this.#options.root, `rev-${sha}`);
  }

  async #currentSha(): Promise<string | undefined> {
    try {
      return /^rev-([0-9a-f]{40,64})$/.exec(await readlink(this.currentDir))?.[1];
    } catch {
      return undefined;
    }
  }

  async #describe(sha: string, env: NodeJS.ProcessEnv): Promise<GitCommit> {
    const [hash = sha, subject = "", author = "", time = "0"] = (await runGit(["log", "-1", "--format=%H%x00%s%x00%an%x00%ct", sha], { cwd: this.#repo, env })).trim().split("\0");
    return { sha: hash, subject, author, committedAt: Number(time) * 1000 };
  }

  /** Removes the checkouts of commits other than `keep`. */
  async #prune(keep: string[], env: NodeJS.ProcessEnv): Promise<void> {
    for (const entry of await readdir(this.#options.root)) {
      const sha = /^rev-([0-9a-f]+)$/.exec(entry)?.[1];
      if (sha === undefined || keep.includes(sha)) continue;
      await runGit(["worktree", "remove", "--force", join(this.#options.root, entry)], { cwd: this.#repo, env }).catch(() => rm(join(this.#options.root, entry), { recursive: true, force: true }));
    }
    await runGit(["worktree", "prune"], { cwd: this.#repo, env }).catch(() => undefined);
  }

  #fetchError(error: unknown): GitSyncError {
    const { url, branch } = this.#options;
    const shown = redactUrl(url);
    const text = error instanceof GitCommandError ? error.stderr : String(error);
    if (/couldn't find remote ref/i.test(text)) {
      return new GitSyncError(`branch ${JSON.stringify(branch)} does not exist in ${shown}; check pipelines.git.branch`, { cause: error });
    }
    if (/authentication failed|could not read username|403|401/i.test(text)) {
      return new GitSyncError(`${shown} refused the credentials (branch ${JSON.stringify(branch)}); check the secret named by pipelines.git.credentials`, { cause: error });
    }
    const detail = error instanceof Error ? error.message.replace(/^git fetch failed: /, "") : String(error);
    return new GitSyncError(`cannot pull ${shown} (branch ${JSON.stringify(branch)}): ${detail.split(url).join(shown)}`, { cause: error });
  }
}
