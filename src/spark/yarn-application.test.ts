import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killYarnApplication, readYarnTarget, writeYarnTarget, yarnApplicationId, yarnAttemptTag, yarnTargetPath } from "./yarn-application.js";

/** A stand-in ResourceManager for the answers the minicluster cannot give (refusals, redirects); the real one is in test/spark/yarn-master.test.ts. */
let server: Server | undefined;
async function resourceManager(answer: (request: IncomingMessage, body: string) => { status: number; body?: unknown; headers?: Record<string, string> }): Promise<string> {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const out = answer(request, body);
      response.writeHead(out.status, { "content-type": "application/json", ...out.headers });
      response.end(out.body === undefined ? "" : JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe("a spark task's YARN application", () => {
  it("is found in spark-submit's log, from the moment its id is asked for", () => {
    expect(yarnApplicationId("26/12/01 INFO Client: Submitting application application_1796142705160_0001 to ResourceManager")).toBe("application_1796142705160_0001");
    expect(yarnApplicationId("INFO YarnClientImpl: Submitted application application_17_0042\n")).toBe("application_17_0042");
    expect(yarnApplicationId("Submitted application application_1_2/../../x")).toBe("application_1_2");
    expect(yarnApplicationId("Submitted application app_1_2")).toBeUndefined();
    expect(yarnAttemptTag("AbC_12")).toBe("capstan-attempt-abc-12");
  });

  it("is killed with the connection's user and followed until YARN reports it KILLED; an ended one is left alone", async () => {
    const seen: string[] = [];
    let state = "RUNNING";
    const url = await resourceManager((request, body) => {
      seen.push(`${request.method ?? ""} ${request.url ?? ""} ${body}`);
      if (request.method === "PUT") {
        state = "KILLED";
        return { status: 202, body: { state: "RUNNING" } };
      }
      return { status: 200, body: { state, diagnostics: null } };
    });
    expect(await killYarnApplication({ resourceManagerUrl: `${url}/`, user: "analyst" }, "application_1_1", { pollMs: 10 })).toEqual({ applicationId: "application_1_1", state: "KILLED", killed: true });
    expect(seen[0]).toBe("GET /ws/v1/cluster/apps/application_1_1/state?user.name=analyst ");
    expect(seen[1]).toBe('PUT /ws/v1/cluster/apps/application_1_1/state?user.name=analyst {"state":"KILLED"}');
    seen.length = 0;
    state = "FINISHED";
    expect(await killYarnApplication({ resourceManagerUrl: url }, "application_1_1")).toEqual({ applicationId: "application_1_1", state: "FINISHED", killed: false });
    expect(seen.filter((s) => s.startsWith("PUT"))).toEqual([]);
  });

  it("waits a moment for an id the ResourceManager does not know yet (logged before its submission), and leaves it when it never comes", async () => {
    let gets = 0;
    const url = await resourceManager((request) => {
      if (request.method === "PUT") return { status: 202, body: { state: "ACCEPTED" } };
      gets++;
      return gets < 3 ? { status: 404, body: { RemoteException: { message: "app not found" } } } : { status: 200, body: { state: gets < 4 ? "ACCEPTED" : "KILLED" } };
    });
    expect(await killYarnApplication({ resourceManagerUrl: url }, "application_1_1", { pollMs: 10 })).toEqual({ applicationId: "application_1_1", state: "KILLED", killed: true });
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const never = await resourceManager(() => ({ status: 404 }));
    expect(await killYarnApplication({ resourceManagerUrl: never }, "application_1_1", { pollMs: 100 })).toEqual({ applicationId: "application_1_1", state: "NOT_SUBMITTED", killed: false });
  });

  it("says what went wrong: a refusal, a standby's redirect, no answer, an answer without a state, a crafted id", async () => {
    const refusing = await resourceManager((request) =>
      request.method === "PUT" ? { status: 403, body: { RemoteException: { message: "User bob does not have privilege to see this application" } } } : { status: 200, body: { state: "ACCEPTED" } },
    );
    await expect(killYarnApplication({ resourceManagerUrl: refusing, user: "bob" }, "application_1_1")).rejects.toThrow(/refused to kill application_1_1: HTTP 403: User bob does not have privilege/);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const standby = await resourceManager(() => ({ status: 307, headers: { location: "http://elsewhere:8088/ws/v1/cluster/apps/application_1_1/state" } }));
    await expect(killYarnApplication({ resourceManagerUrl: standby }, "application_1_1")).rejects.toThrow(/redirected \(HTTP 307; a standby in an HA pair\?\): set resource_manager_url to the active one/);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const odd = await resourceManager(() => ({ status: 200, body: { apps: [] } }));
    await expect(killYarnApplication({ resourceManagerUrl: odd }, "application_1_1")).rejects.toThrow(/holds no application state/);
    await expect(killYarnApplication({ resourceManagerUrl: "http://127.0.0.1:1" }, "application_1_1")).rejects.toThrow(/could not be reached/);
    await expect(killYarnApplication({ resourceManagerUrl: odd }, "application_1_1/../../../x")).rejects.toThrow(/is not a YARN application id/);
  });

  it("keeps its ResourceManager beside the attempt's folder, which the task may write, not in it", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "capstan-yarn-")), "1");
    writeYarnTarget(dir, { resourceManagerUrl: "http://rm:8088", user: "analyst" });
    expect(yarnTargetPath(dir)).toBe(`${dir}.yarn.json`);
    expect(readYarnTarget(dir)).toEqual({ resourceManagerUrl: "http://rm:8088", user: "analyst" });
    writeFileSync(yarnTargetPath(dir), JSON.stringify({ resourceManagerUrl: "file:///etc/passwd" }));
    expect(readYarnTarget(dir)).toBeNull();
    expect(readYarnTarget(join(dir, "none"))).toBeNull();
  });
});
