/**
 * Param values with NUL bytes are refused at the door: each trigger gets a 400 naming the param,
 * nothing is queued, and the server keeps answering.
 */
import { afterEach, describe, expect, it } from "vitest";
import { openServer, type ServerHarness } from "./support/server-harness.js";

let h: ServerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PIPELINE = `id: echo
params:
  msg: { type: string, default: hello }
  extra: { type: object, default: {} }
tasks:
  say: { command: 'echo "msg is {{ params.msg }}"' }
`;

interface ErrorBody {
  error: { code: string; message: string; details?: { param?: string } };
}

describe("NUL bytes in params", () => {
  it("answers 10 concurrent triggers with a NUL in a param with 400 naming it, and runs nothing", async () => {
    const s = (h = await openServer({ pipelines: { "echo.yaml": PIPELINE } }));
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => s.call<ErrorBody>("POST", "/api/pipelines/echo/runs", { token: s.admin.token, raw: '{"params": {"msg": "nul\\u0000byte"}}', headers: { "content-type": "application/json" } })),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe("invalid_param");
      expect(answer.body.error.details?.param).toBe("msg");
      expect(answer.body.error.message).toMatch(/^param msg: the value contains a NUL byte \(U\+0000\)/);
    }
    const nested = await s.call<ErrorBody>("POST", "/api/pipelines/echo/runs", { token: s.admin.token, body: { params: { extra: { deep: ["ok", "x\u0000"] } } } });
    expect(nested.status).toBe(400);
    expect(nested.body.error.details?.param).toBe("extra");
    expect((await s.call<{ total: number }>("GET", "/api/runs?pipeline=echo", { token: s.admin.token })).body.total).toBe(0);
    const good = await s.call<{ id: string }>("POST", "/api/pipelines/echo/runs", { token: s.admin.token, body: { params: { msg: "fine" } } });
    expect(good.status).toBe(201);
    expect((await s.waitForRun(good.body.id)).state).toBe("success");
    expect(s.serverErrors).toEqual([]);
  });
});
