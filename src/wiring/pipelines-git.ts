/**
 * `pipelines.git` wired to the platform: the sync of the branch (credentials from the team secret
 * the config names).
 */
import type { Logger } from "pino";
import type { CapstanConfig } from "../config/index.js";
import { PipelineGitSync } from "../git-sync/index.js";
import type { SecretService } from "../secrets/index.js";

/** The sync of `config.pipelinesGit`, or undefined when none is configured. */
export function openPipelineGit(config: CapstanConfig, secrets: SecretService, logger: Logger, onChange: () => Promise<void>): PipelineGitSync | undefined {
  const git = config.pipelinesGit;
  if (git === undefined) return undefined;
  const wanted = git.credentials;
  return new PipelineGitSync({
    settings: { url: git.url, branch: git.branch, path: git.path, intervalMs: git.intervalMs, checkoutDir: git.checkoutDir },
    ...(wanted === undefined
      ? {}
      : {
          credentials: async () => {
            const keys = await secrets.resolve(wanted.team, { username: { secret: wanted.secret, key: "username" }, password: { secret: wanted.secret, key: "password" } });
            return { username: keys["username"] ?? "", password: keys["password"] ?? "" };
          },
        }),
    onChange,
    logger,
  });
}
