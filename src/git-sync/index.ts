/** Pipelines from git: a branch of a repository checked out and kept current (timer and webhook), as git-sync does. */
export { checkoutCommitOf, GitCheckout, GitSyncError, redactUrl, type GitCommit, type GitSyncResult } from "./git-checkout.js";
export { gitEnv, GitCommandError, type GitCredentials } from "./git-command.js";
export { PipelineGitSync, type PipelineGitSettings, type PipelineGitStatus } from "./pipeline-git-sync.js";
export { webhookAuthentic } from "./webhook-signature.js";
