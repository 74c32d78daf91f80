/** How `capstan sandbox ssh` calls ssh: the ProxyCommand quoted for the shell and for ssh's % tokens, the caller's options first, the host key pinned by id. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pinHostKey, proxyCommand, sshArgv, sshConfigBlock } from "./ssh-invocation.js";

describe("ssh invocation", () => {
  it("quotes the ProxyCommand for the shell and escapes ssh's % tokens", () => {
    expect(proxyCommand(["capstan"], "https://capstan.example.com", "lab")).toBe("capstan --server https://capstan.example.com sandbox tunnel lab");
    expect(proxyCommand(["/opt/my node/node", "/x/capstan.js"], "http://h:1/?a=1%20", "lab")).toBe("'/opt/my node/node' /x/capstan.js --server 'http://h:1/?a=1%%20' sandbox tunnel lab");
    expect(proxyCommand(["capstan"], undefined, "it's")).toBe(`capstan sandbox tunnel 'it'\\''s'`);
  });

  it("puts the caller's -o options first (ssh keeps the first value), then the tunnel, the user, the host and the command after --", () => {
    const argv = sshArgv({ sandboxId: "sabcdefghijklmnop", sandboxName: "lab", user: "ann", proxyCommand: "capstan sandbox tunnel lab", knownHosts: "/k", identity: "/id", options: ["StrictHostKeyChecking=no"], command: ["ls", "-la"] });
    expect(argv).toEqual([
      "-o", "StrictHostKeyChecking=no",
      "-i", "/id",
      "-o", "ProxyCommand=capstan sandbox tunnel lab",
      "-o", "HostKeyAlias=capstan-sandbox-sabcdefghijklmnop",
      "-o", "UserKnownHostsFile=/k",
      "-o", "StrictHostKeyChecking=yes",
      "-l", "ann",
      "capstan-lab",
      "--", "ls", "-la",
    ]);
    expect(sshConfigBlock({ sandboxId: "sabcdefghijklmnop", sandboxName: "lab", user: "ann", proxyCommand: "capstan sandbox tunnel lab", knownHosts: undefined })).toBe(
      "Host capstan-lab\n  User ann\n  ProxyCommand capstan sandbox tunnel lab\n  HostKeyAlias capstan-sandbox-sabcdefghijklmnop\n  StrictHostKeyChecking accept-new\n",
    );
  });

  it("pins one host key per sandbox id, replacing an earlier one", () => {
    const env = { CAPSTAN_CREDENTIALS: join(mkdtempSync(join(tmpdir(), "capstan-known-")), "credentials.json") };
    pinHostKey("capstan-sandbox-a", "ssh-ed25519 AAAAold capstan-sandbox", env);
    pinHostKey("capstan-sandbox-b", "ssh-ed25519 AAAAb capstan-sandbox", env);
    const file = pinHostKey("capstan-sandbox-a", "ssh-ed25519 AAAAnew capstan-sandbox", env);
    expect(readFileSync(file, "utf8")).toBe("capstan-sandbox-b ssh-ed25519 AAAAb\ncapstan-sandbox-a ssh-ed25519 AAAAnew\n");
  });
});
