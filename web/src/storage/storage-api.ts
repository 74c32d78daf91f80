/**
 * The storage API as the Files page and the public share page use it: volumes, entries, previews
 * and share links (docs/storage.md), with the URLs of downloads and zips.
 */
import { useQuery } from "@tanstack/react-query";
import { api, seg } from "../api/client.js";
import type { components } from "../api/openapi.gen.js";

export type StorageEntry = components["schemas"]["StorageEntry"];

export interface Volume {
  name: string;
  team: string;
  kind: string;
  description?: string;
  /** The one user who sees a home volume. */
  owner?: string;
  readOnly: boolean;
  canWrite: boolean;
}

/** The Files page at a folder of a volume; `preview` opens a file of that folder in the preview. */
export function filesUrl(volume: string, path = "", preview?: string): string {
  const folder = path ? `/${path.split("/").map(encodeURIComponent).join("/")}` : "";
  return `/files/${encodeURIComponent(volume)}${folder}${preview === undefined ? "" : `?preview=${encodeURIComponent(preview)}`}`;
}

/** Where a run's outputs are on the Files page: the run volume's PIPELINE/RUN/artifacts and PIPELINE/RUN/notebooks/TASK.ipynb. */
export const runFiles = {
  artifacts: (pipeline: string, run: string) => filesUrl("runs", `${pipeline}/${run}/artifacts`),
  notebook: (pipeline: string, run: string, task: string) => filesUrl("runs", `${pipeline}/${run}/notebooks`, `${task}.ipynb`),
};

export interface EntryPage {
  path: string;
  entries: StorageEntry[];
  nextCursor?: string;
}

export interface Preview {
  kind: "text" | "image" | "csv" | "parquet" | "notebook" | "none";
  truncated: boolean;
  text?: string;
  columns?: string[];
  rows?: unknown[][];
  notebookHtml?: string;
}

export interface Share {
  id: string;
  url: string;
  volume: string;
  path: string;
  type: "file" | "folder";
  expiresAt: string | null;
  passwordProtected: boolean;
  downloads: number;
  createdAt: string;
}

export const storageKeys = {
  volumes: ["volumes"] as const,
  folder: (volume: string, path: string) => ["volume-entries", volume, path] as const,
  folders: (volume: string) => ["volume-entries", volume] as const,
  preview: (volume: string, path: string) => ["volume-preview", volume, path] as const,
  shares: ["shares"] as const,
};

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
const v = (volume: string) => `/api/volumes/${seg(volume)}`;

export const storageUrls = {
  file: (volume: string, path: string, download = false) => `${v(volume)}/files?${q({ path, ...(download ? { download: "1" } : {}) })}`,
  zip: (volume: string, path: string) => `${v(volume)}/zip?${q({ path })}`,
  uploads: (volume: string) => `${v(volume)}/uploads`,
  put: (volume: string, path: string, overwrite: boolean) => `${v(volume)}/files?${q({ path, ...(overwrite ? { overwrite: "true" } : {}) })}`,
};

export function useVolumes() {
  return useQuery({ queryKey: storageKeys.volumes, queryFn: async () => (await api<{ volumes: Volume[] }>("GET", "/api/volumes")).volumes });
}

/** Every entry of a folder (pages of 1000 read one after the other). */
export function useFolder(volume: string | undefined, path: string) {
  return useQuery({
    queryKey: storageKeys.folder(volume ?? "", path),
    enabled: volume !== undefined,
    queryFn: async () => {
      const entries: StorageEntry[] = [];
      let cursor: string | undefined;
      do {
        const page = await api<EntryPage>("GET", `${v(volume ?? "")}/entries?${q({ path, limit: "1000", ...(cursor ? { cursor } : {}) })}`);
        entries.push(...page.entries);
        cursor = page.nextCursor;
      } while (cursor);
      return entries;
    },
  });
}

export function usePreview(volume: string, path: string | undefined) {
  return useQuery({ queryKey: storageKeys.preview(volume, path ?? ""), enabled: path !== undefined, queryFn: () => api<Preview>("GET", `${v(volume)}/preview?${q({ path: path ?? "" })}`) });
}

export const storageCalls = {
  mkdir: (volume: string, path: string) => api<{ entry: StorageEntry }>("POST", `${v(volume)}/folders`, { path }),
  move: (volume: string, from: string, to: string) => api<{ entry: StorageEntry }>("POST", `${v(volume)}/move`, { from, to }),
  remove: (volume: string, path: string, recursive: boolean) => api<undefined>("DELETE", `${v(volume)}/entries?${q({ path, ...(recursive ? { recursive: "true" } : {}) })}`),
  share: (request: { volume: string; path: string; expiresIn?: number; password?: string }) => api<{ share: Share }>("POST", "/api/shares", request),
  shares: async () => (await api<{ shares: Share[] }>("GET", "/api/shares")).shares,
  unshare: (id: string) => api<undefined>("DELETE", `/api/shares/${seg(id)}`),
};

/** "1.5 MiB", "312 B". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Joins a folder path and a name ("" is the root). */
export function joinPath(folder: string, name: string): string {
  return folder === "" ? name : `${folder}/${name}`;
}
