/**
 * The kubeconfig entry (cluster, user, context, all named `capstan-<cluster>`) that lets Capstan act
 * as another cluster's ServiceAccount, and writing it into a kubeconfig file: entries of the same
 * names are replaced, every other entry is kept, and the file is replaced whole, so a reader never
 * sees half a file. A new file gets mode 0600 (it holds a token); an existing one keeps its owner and
 * group and its owner's permissions (group and other lose theirs). A symlinked kubeconfig (dotfile
 * managers link ~/.kube/config) is written through: its target is replaced and the link stays; a
 * link to nowhere is refused.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isMap, parseDocument, stringify } from "yaml";
import { ClientError } from "../errors.js";
import type { ServiceAccountToken } from "./service-account-token.js";

/** The kubeconfig names of the entry for Capstan's cluster `name`. */
export function entryName(name: string): string {
  return `capstan-${name}`;
}

interface NamedEntry {
  name: string;
  [key: string]: unknown;
}

/** The cluster, user and context entries for `name`. */
export function kubeconfigEntries(name: string, token: ServiceAccountToken): { cluster: NamedEntry; user: NamedEntry; context: NamedEntry } {
  const entry = entryName(name);
  return {
    cluster: {
      name: entry,
      cluster: {
        server: token.server,
        ...(token.caData === undefined ? {} : { "certificate-authority-data": token.caData }),
        ...(token.insecureSkipTlsVerify ? { "insecure-skip-tls-verify": true } : {}),
        ...(token.tlsServerName === undefined ? {} : { "tls-server-name": token.tlsServerName }),
      },
    },
    user: { name: entry, user: { token: token.token } },
    context: { name: entry, context: { cluster: entry, user: entry, namespace: token.namespace } },
  };
}

/** A kubeconfig file holding only the entry for `name` (what --print prints). */
export function kubeconfigText(name: string, token: ServiceAccountToken): string {
  const { cluster, user, context } = kubeconfigEntries(name, token);
  return stringify({ apiVersion: "v1", kind: "Config", clusters: [cluster], users: [user], contexts: [context], "current-context": context.name });
}

/**
 * Adds (or replaces) the entry for `name` in the kubeconfig file `path`, creating the file when
 * absent. Returns whether an entry of that name was replaced.
 */
export function writeKubeconfigEntry(path: string, name: string, token: ServiceAccountToken): { replaced: boolean } {
  const { cluster, user, context } = kubeconfigEntries(name, token);
  const target = writeTarget(path);
  let document: Record<string, unknown> = { apiVersion: "v1", kind: "Config", clusters: [], users: [], contexts: [], "current-context": context.name };
  if (target.existing !== undefined) document = readKubeconfig(path);
  let replaced = false;
  for (const [section, item] of [["clusters", cluster], ["users", user], ["contexts", context]] as const) {
    const list = document[section];
    if (list !== undefined && list !== null && !Array.isArray(list)) throw new ClientError(`${path}: ${section} is not a list; this is not a kubeconfig file Capstan can add to`);
    const kept = ((list ?? []) as unknown[]).filter((e) => (e as NamedEntry | null)?.name !== item.name);
    replaced ||= kept.length !== ((list ?? []) as unknown[]).length;
    document[section] = [...kept, item];
  }
  mkdirSync(dirname(target.file), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(target.file), `.${basename(target.file)}.${randomBytes(6).toString("hex")}.tmp`);
  // Owner permissions only: the file holds a token.
  const mode = target.existing === undefined ? 0o600 : target.existing.mode & 0o700;
  try {
    writeFileSync(temporary, stringify(document), { mode, flag: "wx" });
    chmodSync(temporary, mode);
    const existing = target.existing;
    if (existing !== undefined && (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.())) chownSync(temporary, existing.uid, existing.gid);
    renameSync(temporary, target.file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new ClientError(`cannot write ${target.file === path ? path : `${target.file} (where ${path} links to)`} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return { replaced };
}

/**
 * The file to replace for the kubeconfig `path`: the path itself, or for a symlink the file it
 * resolves to, so the link stays a link; and that file's stat when it exists.
 */
function writeTarget(path: string): { file: string; existing: Stats | undefined } {
  let link: Stats;
  try {
    link = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { file: path, existing: undefined };
    throw new ClientError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!link.isSymbolicLink()) {
    if (!link.isFile()) throw new ClientError(`${path} is not a regular file; nothing was written`);
    return { file: path, existing: link };
  }
  let file: string;
  try {
    file = realpathSync(path);
  } catch (error) {
    throw new ClientError(`${path} is a symlink to a file that cannot be resolved (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); create its target or pass --kubeconfig with a file path; nothing was written`);
  }
  const existing = statSync(file);
  if (!existing.isFile()) throw new ClientError(`${path} links to ${file}, which is not a regular file; nothing was written`);
  return { file, existing };
}

function readKubeconfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ClientError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const parsed = parseDocument(text);
  if (parsed.errors.length > 0) throw new ClientError(`${path} is not valid YAML: ${parsed.errors[0]?.message ?? ""}; nothing was written`);
  if (parsed.contents === null) return { apiVersion: "v1", kind: "Config" };
  if (!isMap(parsed.contents)) throw new ClientError(`${path} is not a kubeconfig file (its top level is not a mapping); nothing was written`);
  const value = parsed.toJS() as Record<string, unknown>;
  if (value.kind !== undefined && value.kind !== "Config") throw new ClientError(`${path} is a ${JSON.stringify(value.kind)}, not a kubeconfig (kind: Config); nothing was written`);
  return value;
}
