/**
 * A real git server for tests: `git http-backend` (git's own smart-HTTP server, a CGI program)
 * behind a loopback HTTP server that asks for Basic credentials, serving bare repositories from a
 * temporary folder. Commits are made in a working clone and pushed to the bare repository by path.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface GitServer {
  /** http://127.0.0.1:PORT/NAME.git */
  url: string;
  username: string;
  password: string;
  /** Commits `files` (path → text; null deletes) on `branch` and pushes; answers the commit's sha. */
  commit(files: Record<string, string | null>, message: string, branch?: string): string;
  /** Requests the server answered, by method and path (for the credentials checks). */
  requests: { method: string; path: string; authorized: boolean }[];
  close(): Promise<void>;
}

const gitEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "Ada", GIT_AUTHOR_EMAIL: "ada@example.org", GIT_COMMITTER_NAME: "Ada", GIT_COMMITTER_EMAIL: "ada@example.org" };

function git(args: string[], cwd: string): string {
  return execFileSync("git", args, { cwd, env: gitEnv, encoding: "utf8" }).trim();
}

/** Starts a server for one new repository `name` (empty until the first commit). */
export async function startGitServer(name = "pipelines"): Promise<GitServer> {
  const root = mkdtempSync(join(tmpdir(), "capstan-git-"));
  const projects = join(root, "srv");
  mkdirSync(projects);
  const bare = join(projects, `${name}.git`);
  git(["init", "--quiet", "--bare", "--initial-branch=main", bare], root);
  const work = join(root, "work");
  git(["init", "--quiet", "--initial-branch=main", work], root);
  git(["remote", "add", "origin", bare], work);
  const username = "capstan-sync";
  const password = `tok-${Math.random().toString(36).slice(2)}`;
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  const requests: GitServer["requests"] = [];

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const authorized = request.headers.authorization === expected;
    requests.push({ method: request.method ?? "", path: url.pathname, authorized });
    if (!authorized) {
      response.writeHead(401, { "www-authenticate": 'Basic realm="git"' }).end();
      return;
    }
    const cgi = spawn("git", ["http-backend"], {
      env: {
        ...gitEnv,
        GIT_PROJECT_ROOT: projects,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: decodeURIComponent(url.pathname),
        REQUEST_METHOD: request.method ?? "GET",
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers["content-type"] ?? "",
        ...(request.headers["content-encoding"] ? { HTTP_CONTENT_ENCODING: String(request.headers["content-encoding"]) } : {}),
        ...(request.headers["git-protocol"] ? { GIT_PROTOCOL: String(request.headers["git-protocol"]) } : {}),
        REMOTE_USER: username,
        REMOTE_ADDR: "127.0.0.1",
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    request.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersSent = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) {
        response.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === "status") status = Number(value.split(" ")[0]);
        else headers[key] = value;
      }
      response.writeHead(status, headers);
      headersSent = true;
      response.write(head.subarray(end + 4));
    });
    cgi.on("close", () => {
      if (!headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/${name}.git`,
    username,
    password,
    requests,
    commit(files, message, branch = "main") {
      const current = git(["symbolic-ref", "--short", "HEAD"], work);
      if (current !== branch) {
        const exists = git(["branch", "--list", branch], work) !== "";
        git(exists ? ["checkout", "--quiet", branch] : ["checkout", "--quiet", "-b", branch], work);
      }
      for (const [path, text] of Object.entries(files)) {
        const file = join(work, path);
        if (text === null) {
          git(["rm", "--quiet", path], work);
          continue;
        }
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
        git(["add", path], work);
      }
      git(["commit", "--quiet", "--allow-empty", "-m", message], work);
      git(["push", "--quiet", "origin", branch], work);
      return git(["rev-parse", "HEAD"], work);
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
