/**
 * The connection test as an attacker with an editor's role would use it against an internal
 * address: a WebHDFS or HTTP URL whose server answers with credentials in its body, or redirects
 * to another internal path. The answer tells the status only, never the body, and no redirect is
 * followed.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkConnection, type ResolvedConnection } from "../../src/connections/index.js";

const SECRET_BODY = "AKIA-INTERNAL-CREDENTIALS-7f3e";
let server: Server;
let base = "";
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = request.url ?? "";
    seen.push(path);
    if (path.startsWith("/denied/")) response.statusCode = 403;
    else if (path.startsWith("/moved/")) {
      response.statusCode = 307;
      response.setHeader("location", `${base}/inner/webhdfs/v1/?op=GETFILESTATUS`);
    } else response.statusCode = 200;
    // A FileStatus with the secret: followed, the redirect would pass the check and show the body.
    response.end(path.startsWith("/plain/") ? `credentials: ${SECRET_BODY}` : `{"FileStatus":{"note":"${SECRET_BODY}"}}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  base = typeof address === "object" && address ? `http://127.0.0.1:${address.port}` : "";
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

function connection(kind: "webhdfs" | "http", url: string): ResolvedConnection {
  return { team: "team-a", name: "probe", kind, description: null, settings: { url }, secrets: {}, secretValues: {}, updatedAt: 0 };
}

describe("connection test against internal addresses", () => {
  it("tells a WebHDFS error by status only, never its body", async () => {
    for (const path of ["/denied", "/plain"]) {
      const check = await checkConnection(connection("webhdfs", `${base}${path}`));
      expect(check.ok, path).toBe(false);
      expect(check.message, path).not.toContain(SECRET_BODY);
      expect(check.message, path).not.toContain("credentials");
    }
    expect((await checkConnection(connection("webhdfs", `${base}/denied`))).message).toContain("403");
  });

  it("follows no redirect, for WebHDFS nor HTTP", async () => {
    seen.length = 0;
    const webhdfs = await checkConnection(connection("webhdfs", `${base}/moved`));
    expect(webhdfs.ok).toBe(false);
    expect(webhdfs.message).toContain("307");
    expect(webhdfs.message).not.toContain(SECRET_BODY);
    const http = await checkConnection(connection("http", `${base}/moved/`));
    expect(http.message).not.toContain(SECRET_BODY);
    expect(seen.filter((path) => path.startsWith("/inner/"))).toEqual([]);
  });

  it("still passes a real WebHDFS answer, telling its status only", async () => {
    const check = await checkConnection(connection("webhdfs", `${base}/ok`));
    expect(check).toMatchObject({ ok: true, message: "WebHDFS GETFILESTATUS / answered 200" });
  });
});
