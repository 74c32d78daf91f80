import { statSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { credentialsPath, forgetCredential, sameServer, savedCredential, saveCredential, serverKey } from "./cli-credentials.js";

describe("saved CLI credentials", () => {
  it("keeps one token per server, readable by the owner only", () => {
    const env = { CAPSTAN_CREDENTIALS: join(mkdtempSync(join(tmpdir(), "capstan-cred-")), "sub", "credentials.json") };
    const credential = { username: "ana", token: "capstan_x", tokenId: "id1", savedAt: "2026-01-01T00:00:00.000Z" };
    const path = saveCredential("https://capstan.example.com/", credential, env);
    expect(path).toBe(credentialsPath(env));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(savedCredential("https://capstan.example.com", env)).toEqual(credential);
    expect(savedCredential("https://other.example.com", env)).toBeUndefined();
    expect(forgetCredential("https://capstan.example.com", env)).toEqual(credential);
    expect(savedCredential("https://capstan.example.com", env)).toBeUndefined();
  });

  it("names servers by scheme, host, port and path", () => {
    expect(serverKey("http://localhost:8080/")).toBe("http://localhost:8080");
    expect(sameServer("http://localhost:8080", "http://localhost:8080/")).toBe(true);
    expect(sameServer("http://localhost:8080", "http://localhost:8081")).toBe(false);
    expect(sameServer("http://localhost:8080", "not a url")).toBe(false);
  });

  it("defaults to the XDG config folder", () => {
    expect(credentialsPath({ HOME: "/home/ana" })).toBe("/home/ana/.config/capstan/credentials.json");
    expect(credentialsPath({ HOME: "/home/ana", XDG_CONFIG_HOME: "/cfg" })).toBe("/cfg/capstan/credentials.json");
  });
});
