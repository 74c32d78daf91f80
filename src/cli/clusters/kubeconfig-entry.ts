/**
 * The kubeconfig entry (cluster, user, context, all named `capstan-<cluster>`) that lets Capstan act
 * as another cluster's ServiceAccount, and writing it into a kubeconfig file: entries of the same
 * names are replaced, every other entry is kept, and the file is replaced whole with mode 0600 (it
 * holds a token), so a reader never sees half a file.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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
  let document: Record<string, unknown> = { apiVersion: "v1", kind: "Config", clusters: [], users: [], contexts: [], "current-context": context.name };
  if (existsSync(path)) document = readKubeconfig(path);
  let replaced = false;
  for (const [section, item] of [["clusters", cluster], ["users", user], ["contexts", context]] as const) {
    const list = document[section];
    if (list !== undefined && list !== null && !Array.isArray(list)) throw new ClientError(`${path}: ${section} is not a list; this is not a kubeconfig file Capstan can add to`);
    const kept = ((list ?? []) as unknown[]).filter((e) => (e as NamedEntry | null)?.name !== item.name);
    replaced ||= kept.length !== ((list ?? []) as unknown[]).length;
    document[section] = [...kept, item];
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temporary, stringify(document), { mode: 0o600, flag: "wx" });
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new ClientError(`cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return { replaced };
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
