/** A local sandbox's sshd configuration: keys only, Capstan's user only, sessions in the home with its environment, and no value that could break out of a line. */
import { describe, expect, it } from "vitest";
import { SESSION_SCRIPT, sshdConfig, sshdFiles } from "./local-sshd.js";

const files = sshdFiles("/capstan/sandboxes/run/sabcdefghijklmnop");
const env = { HOME: "/capstan/sandboxes/homes/sabcdefghijklmnop", PATH: "/venv/bin:/usr/bin:/bin", CAPSTAN_ATTEMPT_TOKEN: "sandbox-sabcdefghijklmnop", JUPYTER_CONFIG_DIR: "/capstan/run/jupyter-config", SECRET: "x" };

describe("local sshd configuration", () => {
  it("lets in only Capstan's user, with keys from the sandbox's home, and never a password", () => {
    const config = sshdConfig({ port: 40022, user: "ann", home: env.HOME, files, env });
    const lines = config.split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "Port 40022",
        "ListenAddress 127.0.0.1",
        "AllowUsers ann",
        `AuthorizedKeysFile "${env.HOME}/.ssh/authorized_keys"`,
        "AuthenticationMethods publickey",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PermitUserEnvironment no",
        "X11Forwarding no",
        "PermitTunnel no",
        `HostKey "${files.hostKey}"`,
        `ForceCommand /bin/sh '${files.session}'`,
      ]),
    );
    expect(config).not.toContain("PermitRootLogin");
    expect(sshdConfig({ port: 40022, user: "root", home: env.HOME, files, env })).toContain("PermitRootLogin prohibit-password");
  });

  it("gives sessions the sandbox's HOME, PATH and marker, and nothing else of its environment", () => {
    const setEnv = sshdConfig({ port: 1, user: "ann", home: env.HOME, files, env })
      .split("\n")
      .find((line) => line.startsWith("SetEnv "));
    expect(setEnv).toBe(`SetEnv "HOME=${env.HOME}" "PATH=${env.PATH}" "CAPSTAN_ATTEMPT_TOKEN=${env.CAPSTAN_ATTEMPT_TOKEN}"`);
    expect(SESSION_SCRIPT).toContain('cd "$HOME" || exit 1');
  });

  it("refuses values that could end a line or a quoted word of the configuration", () => {
    expect(() => sshdConfig({ port: 1, user: "ann", home: "/home/x\nPasswordAuthentication yes", files, env })).toThrow(/cannot go into an sshd configuration/);
    expect(() => sshdConfig({ port: 1, user: "ann", home: env.HOME, files, env: { ...env, HOME: 'a"b' } })).toThrow(/quotes, backslashes and newlines/);
  });
});
