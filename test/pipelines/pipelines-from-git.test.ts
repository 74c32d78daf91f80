/**
 * Pipelines from git against a real git server (git http-backend behind Basic auth): the branch is
 * pulled with credentials from a team secret, every commit that changes a pipeline is a version
 * carrying its commit id, a push webhook signed with the shared secret pulls at once (a forged or
 * unsigned one is refused), a broken commit keeps the previous version loaded and shows the error
 * with file and line, and a task runs from the commit's own checkout. No restart anywhere.
 */
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { GitCheckout } from "../../src/git-sync/index.js";
import { startGitServer, type GitServer } from "../support/git-server.js";
import { openServer, type ServerHarness } from "../server/support/server-harness.js";

const WEBHOOK_SECRET = "push-hook-secret";

const pipeline = (description: string) => `id: from-git\nteam: ml\ndescription: ${description}\ntasks:\n  show: { command: "cat data.txt" }\n`;

let git: GitServer;
let server: ServerHarness;

beforeAll(async () => {
  git = await startGitServer();
  git.commit({ "pipelines/from-git.yaml": pipeline("first"), "pipelines/data.txt": "rows from the repository\n", "README.md": "not a pipeline\n" }, "first pipeline");
  server = await openServer({
    configure: (config) => {
      config.pipelinesGit = {
        url: git.url,
        branch: "main",
        path: "pipelines",
        intervalMs: 3_600_000,
        credentials: { team: "ml", secret: "git" },
        webhookSecret: WEBHOOK_SECRET,
        checkoutDir: join(config.home, "pipelines-git"),
      };
    },
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await git?.close();
});

interface Status {
  commit: { sha: string; subject: string } | null;
  last_error: string | null;
}
interface Versions {
  versions: { version: string; commit: string | null }[];
}
interface PipelineList {
  pipelines: { id: string; description?: string | null }[];
  errors: { file: string; message: string; issues: { line?: number }[] }[];
}

const sign = (body: string): string => `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`;

/** Polls the git status until `done` holds. */
async function waitForStatus(done: (status: Status) => boolean): Promise<Status> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await server.call<Status>("GET", "/api/pipelines/git", { token: server.admin.token });
    if (done(body) || Date.now() > deadline) return body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("pipelines from git", () => {
  it("names the missing credentials secret, then pulls with it once it exists", async () => {
    const before = await server.call<Status>("GET", "/api/pipelines/git", { token: server.admin.token });
    expect(before.status).toBe(200);
    expect(before.body.commit).toBeNull();
    expect(before.body.last_error).toMatch(/team ml has no secret "git"/);
    expect(git.requests.some((r) => r.authorized)).toBe(false);

    await server.platform.secrets.set("ml", "git", { username: git.username, password: git.password });
    const synced = await server.call<Status>("POST", "/api/pipelines/git/sync", { token: server.admin.token });
    expect(synced.status).toBe(200);
    expect(synced.body.last_error).toBeNull();
    expect(synced.body.commit?.subject).toBe("first pipeline");
    expect(git.requests.every((r) => r.authorized || r.method === "GET")).toBe(true);
    const versions = await server.call<Versions>("GET", "/api/pipelines/from-git/versions", { token: server.admin.token });
    expect(versions.body.versions.map((v) => v.commit)).toEqual([synced.body.commit?.sha]);
  });

  it("runs a task from the commit's checkout", async () => {
    const run = await server.platform.scheduler.trigger("from-git");
    expect((await server.waitForRun(run.id, 60_000)).state).toBe("success");
    const attempt = (await server.platform.store.attempts.listByTask({ runId: run.id, taskId: "show" }))[0];
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(attempt?.logPath ?? "", "utf8")).toContain("rows from the repository");
  });

  it("refuses a webhook without the shared secret, and pulls at once on a signed one", async () => {
    const sha = git.commit({ "pipelines/from-git.yaml": pipeline("second") }, "describe it again");
    const payload = JSON.stringify({ ref: "refs/heads/main", after: sha });
    const unsigned = await server.call("POST", "/api/pipelines/git/webhook", { raw: payload, headers: { "content-type": "application/json" } });
    expect(unsigned.status).toBe(401);
    const forged = await server.call("POST", "/api/pipelines/git/webhook", { raw: payload, headers: { "content-type": "application/json", "x-hub-signature-256": sign(`${payload} `) } });
    expect(forged.status).toBe(401);
    const wrongToken = await server.call("POST", "/api/pipelines/git/webhook", { raw: payload, headers: { "content-type": "application/json", "x-gitlab-token": "guess" } });
    expect(wrongToken.status).toBe(401);
    expect((await server.call<Status>("GET", "/api/pipelines/git", { token: server.admin.token })).body.commit?.sha).not.toBe(sha);

    const signed = await server.call("POST", "/api/pipelines/git/webhook", { raw: payload, headers: { "content-type": "application/json", "x-hub-signature-256": sign(payload) } });
    expect(signed.status).toBe(202);
    const status = await waitForStatus((s) => s.commit?.sha === sha);
    expect(status.commit?.sha).toBe(sha);
    const versions = await server.call<Versions>("GET", "/api/pipelines/from-git/versions", { token: server.admin.token });
    expect(versions.body.versions[0]?.commit).toBe(sha);
    expect(versions.body.versions).toHaveLength(2);
    expect(server.platform.registry.get("from-git")?.spec.description).toBe("second");

    // GitLab's form: the secret itself in X-Gitlab-Token.
    const gitlab = await server.call("POST", "/api/pipelines/git/webhook", { raw: "{}", headers: { "content-type": "application/json", "x-gitlab-token": WEBHOOK_SECRET } });
    expect(gitlab.status).toBe(202);
  });

  it("keeps the previous version when a commit breaks the file, and shows the error with its line", async () => {
    const good = (await server.call<Status>("GET", "/api/pipelines/git", { token: server.admin.token })).body.commit?.sha;
    const broken = git.commit({ "pipelines/from-git.yaml": "id: from-git\nteam: ml\ntasks:\n  show: { command: [unclosed\n" }, "break the pipeline");
    const status = await server.call<Status>("POST", "/api/pipelines/git/sync", { token: server.admin.token });
    expect(status.body.commit?.sha).toBe(broken);
    expect(server.platform.registry.get("from-git")?.spec.description).toBe("second");
    const list = await server.call<PipelineList>("GET", "/api/pipelines", { token: server.admin.token });
    const error = list.body.errors.find((e) => e.file.endsWith("from-git.yaml"));
    expect(error?.file).toContain(`rev-${broken}`);
    expect(error?.issues[0]?.line).toBeGreaterThan(0);
    expect(list.body.pipelines.map((p) => p.id)).toContain("from-git");
    // The run still works from the last good version's checkout.
    const run = await server.platform.scheduler.trigger("from-git");
    expect((await server.waitForRun(run.id, 60_000)).state).toBe("success");
    expect(good).not.toBe(broken);
  });

  it("keeps what is loaded when the branch disappears from the configuration's view, naming the branch", async () => {
    const root = mkdtempSync(join(tmpdir(), "capstan-checkout-"));
    try {
      const credentials = () => Promise.resolve({ username: git.username, password: git.password });
      const missing = new GitCheckout({ root: join(root, "a"), url: git.url, branch: "no-such-branch", credentials });
      await expect(missing.sync()).rejects.toThrow(`branch "no-such-branch" does not exist in ${git.url}; check pipelines.git.branch`);
      const unreachable = new GitCheckout({ root: join(root, "b"), url: "http://127.0.0.1:1/pipelines.git", branch: "main" });
      await expect(unreachable.sync()).rejects.toThrow(/^cannot pull http:\/\/127\.0\.0\.1:1\/pipelines\.git \(branch "main"\): .*(refused|connect)/i);
      const wrongPassword = new GitCheckout({ root: join(root, "c"), url: git.url, branch: "main", credentials: () => Promise.resolve({ username: git.username, password: "wrong" }) });
      await expect(wrongPassword.sync()).rejects.toThrow(/refused the credentials/);
      const inUrl = new GitCheckout({ root: join(root, "d"), url: git.url.replace("http://", "http://someone:hunter2@"), branch: "main" });
      const failure = await inUrl.sync().catch((caught: unknown) => caught as Error);
      expect(String((failure as Error).message)).not.toContain("hunter2");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("refuses a pipelines.git section with a bad value, naming the key", () => {
    const dir = mkdtempSync(join(tmpdir(), "capstan-config-"));
    try {
      writeFileSync(join(dir, "capstan.yaml"), "pipelines:\n  git:\n    url: --upload-pack=touch /tmp/x\n");
      expect(() => loadConfig({}, {}, dir)).toThrow(ConfigError);
      expect(() => loadConfig({}, {}, dir)).toThrow(/pipelines\.git\.url.*expected a repository URL/);
      writeFileSync(join(dir, "capstan.yaml"), "pipelines:\n  git:\n    url: https://git.example.org/ml/pipelines.git\n    branch: ../main\n");
      expect(() => loadConfig({}, {}, dir)).toThrow(/pipelines\.git\.branch/);
      writeFileSync(join(dir, "capstan.yaml"), "pipelines:\n  folders: [local]\n  git:\n    url: https://git.example.org/ml/pipelines.git\n    path: ../outside\n");
      expect(() => loadConfig({}, {}, dir)).toThrow(/pipelines\.git\.path/);
      writeFileSync(join(dir, "capstan.yaml"), "pipelines:\n  folders: [local]\n  git:\n    url: https://git.example.org/ml/pipelines.git\n    interval: 5m\n");
      const config = loadConfig({}, { CAPSTAN_GIT_WEBHOOK_SECRET: "s" }, dir);
      expect(config.pipelines).toEqual([join(dir, "local")]);
      expect(config.pipelinesGit).toMatchObject({ url: "https://git.example.org/ml/pipelines.git", branch: "main", path: "", intervalMs: 300_000, webhookSecret: "s" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
