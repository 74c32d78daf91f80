/** What the upstream receives: no Capstan cookie, no client Authorization, no client identity headers. */
import { describe, expect, it } from "vitest";
import { rewriteForUpstream, withoutCapstanCookies } from "./forwarded-headers.js";

describe("headers forwarded to a sandbox", () => {
  it("drops the platform session and sandbox cookies but keeps JupyterLab's own", () => {
    expect(withoutCapstanCookies("capstan_sandbox=s; _xsrf=x; capstan_session=p; __Host-capstan_session=q; username-a=b")).toBe("_xsrf=x; username-a=b");
    expect(withoutCapstanCookies("capstan_session=p")).toBeUndefined();
  });

  it("replaces Authorization with the upstream token and overwrites identity headers", () => {
    const headers: Record<string, string> = {
      authorization: "Bearer capstan_platform-token",
      cookie: "capstan_session=p",
      "x-capstan-user": "mallory",
      "x-forwarded-user": "mallory",
      "x-forwarded-for": "1.2.3.4",
      forwarded: "for=1.2.3.4",
      "x-remote-user": "mallory",
      origin: "http://sabc.localhost:8080",
      referer: "http://sabc.localhost:8080/lab",
      accept: "application/json",
    };
    rewriteForUpstream(headers, { owner: "ann", token: "upstream", upstreamOrigin: "http://127.0.0.1:9000" });
    expect(headers).toEqual({ authorization: "token upstream", "x-capstan-user": "ann", origin: "http://127.0.0.1:9000", accept: "application/json" });
  });
});
