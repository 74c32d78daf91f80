/**
 * Writing the kubeconfig entry into a file that is a symlink (as dotfile managers leave
 * ~/.kube/config): the link stays a link and its target gets the entry with its mode kept to the
 * owner's permissions; a link to nowhere is refused with a message naming it, and nothing is written.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { writeKubeconfigEntry } from "./kubeconfig-entry.js";
import type { ServiceAccountToken } from "./service-account-token.js";

const TOKEN: ServiceAccountToken = { server: "https://10.0.0.1:6443", insecureSkipTlsVerify: false, namespace: "ml-gpu", serviceAccount: "capstan", secret: "capstan-token", token: "sa-token" };
const OTHER = "apiVersion: v1\nkind: Config\nclusters:\n  - name: other\n    cluster: { server: https://other:6443 }\nusers: []\ncontexts: []\n";

describe("writeKubeconfigEntry on a symlinked kubeconfig", () => {
  it("writes through to the link's target, keeping the link and the target's owner permissions", () => {
    const dir = mkdtempSync(join(tmpdir(), "capstan-kubeconfig-link-"));
    mkdirSync(join(dir, "dotfiles"));
    const target = join(dir, "dotfiles", "kubeconfig");
    writeFileSync(target, OTHER, { mode: 0o640 });
    const link = join(dir, "config");
    symlinkSync(target, link);

    expect(writeKubeconfigEntry(link, "gpu", TOKEN)).toEqual({ replaced: false });

    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    const written = parse(readFileSync(target, "utf8")) as { clusters: { name: string }[]; users: { name: string; user: { token: string } }[] };
    expect(written.clusters.map((c) => c.name)).toEqual(["other", "capstan-gpu"]);
    expect(written.users).toEqual([{ name: "capstan-gpu", user: { token: "sa-token" } }]);
    // The owner's bits are kept; group and other lose theirs since the file now holds a token.
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(statSync(target).uid).toBe(process.getuid?.());
  });

  it("refuses a symlink that points nowhere and writes nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "capstan-kubeconfig-link-"));
    const link = join(dir, "config");
    symlinkSync(join(dir, "missing", "kubeconfig"), link);
    expect(() => writeKubeconfigEntry(link, "gpu", TOKEN)).toThrow(/config is a symlink to a file that cannot be resolved \(ENOENT\).*nothing was written/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it("keeps an existing plain file's owner-only mode and creates a new one 0600", () => {
    const dir = mkdtempSync(join(tmpdir(), "capstan-kubeconfig-link-"));
    const existing = join(dir, "existing");
    writeFileSync(existing, OTHER, { mode: 0o400 });
    writeKubeconfigEntry(existing, "gpu", TOKEN);
    expect(statSync(existing).mode & 0o777).toBe(0o400);
    const fresh = join(dir, "fresh", "config");
    writeKubeconfigEntry(fresh, "gpu", TOKEN);
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
  });
});
