/** The shapes the storage API answers with, as the CLI reads them (see docs/storage.md, "HTTP API"). */

export interface VolumeView {
  name: string;
  team: string;
  kind: string;
  description?: string;
  /** The one user who sees a home volume. */
  owner?: string;
  readOnly: boolean;
  canWrite: boolean;
}

export interface EntryView {
  name: string;
  path: string;
  type: "file" | "folder";
  size: number;
  modified?: string | null;
  contentType?: string;
}

export interface EntryPage {
  path: string;
  entries: EntryView[];
  nextCursor?: string;
}

export interface ShareView {
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

export interface CreateShareRequest {
  volume: string;
  path: string;
  /** Seconds until the link stops working. */
  expiresIn?: number;
  password?: string;
}
