/** The shares table: one row per share link of a file or folder of a volume. */

export interface SharesTable {
  /** The link's id: ≥ 128 random bits, base64url; it is the only thing a holder of the link knows. */
  id: string;
  /** Who made it. */
  owner: string;
  /** The volume's team when the share was made (a volume moved to another team stops serving it). */
  team: string;
  volume: string;
  /** The shared file or folder, a canonical volume path. */
  path: string;
  type: "file" | "folder";
  /** The password's scrypt hash, or null when the link needs none. */
  passwordHash: string | null;
  createdAt: number;
  /** When the link stops working (epoch ms), or null for never. */
  expiresAt: number | null;
  /** When it was revoked, or null. */
  revokedAt: number | null;
  /** Downloads through the link (files whole or from their first byte, zips). */
  downloads: number;
}
