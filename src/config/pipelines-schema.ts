/**
 * The `pipelines:` section of capstan.yaml: a folder, a list of folders, or an object with
 * `folders` and `git` (a branch of a repository kept current by Capstan, as git-sync does).
 */
import { z } from "zod";
import { parseDuration } from "../units/index.js";

/** Remotes git may fetch from: http(s), ssh (URL or scp-like), git://, file:// or an absolute path. */
const gitUrl = z
  .string()
  .min(1)
  .refine((url) => /^(https?|ssh|git|file):\/\/[^\s]+$/i.test(url) || /^[\w.-]+@[\w.-]+:[^\s]+$/.test(url) || /^\/[^\s]*$/.test(url), {
    error: "expected a repository URL: https://host/org/repo.git, ssh://git@host/org/repo.git, git@host:org/repo.git, git://host/repo or file:///path",
  });

const gitSource = z.strictObject({
  url: gitUrl,
  branch: z
    .string()
    .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/, { error: "a branch name such as main or release/2026" })
    .optional(),
  /** The repository's folder that holds the pipeline files (default: its root). */
  path: z
    .string()
    .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), { error: "a folder inside the repository, such as pipelines (no leading / and no ..)" })
    .optional(),
  /** How often to pull (default 60s). */
  interval: z.union([z.string(), z.number()]).refine((v) => (parseDuration(v) ?? 0) >= 1000, { error: 'expected a duration of at least 1s, such as "60s" or "5m"' }).optional(),
  /** A team secret with `username` and `password` (a token) for an http(s) remote. */
  credentials: z.strictObject({ team: z.string().min(1), secret: z.string().min(1) }).optional(),
  /** The environment variable holding the webhook's shared secret (default CAPSTAN_GIT_WEBHOOK_SECRET); unset: no webhook. */
  webhook_secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: "an environment variable name such as CAPSTAN_GIT_WEBHOOK_SECRET" }).optional(),
  /** Where the checkout lives (default HOME/pipelines-git). */
  checkout_dir: z.string().min(1).optional(),
});

export const pipelinesSchema = z.union([
  z.string(),
  z.array(z.string()),
  z.strictObject({
    folders: z.union([z.string(), z.array(z.string())]).optional(),
    git: gitSource.optional(),
  }),
]);

export type PipelinesConfigFile = z.output<typeof pipelinesSchema>;
export type GitSourceConfigFile = z.output<typeof gitSource>;
