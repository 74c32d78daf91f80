/**
 * How `capstan storage` names files: `VOLUME:PATH` is a file or folder on a volume (`team-data:raw/x.csv`,
 * `team-data:` the root), anything else is a path on this machine. A local path whose first segment
 * looks like `name:` (a lowercase volume name and a colon) must be written with a folder in front,
 * such as `./a:b`, since `a:b` names path `b` on volume `a`.
 */

/** The volume-name rule of capstan.yaml (lowercase letters, digits and '-', starting with a letter), and home volumes' `home-USER` (usernames may hold '.' and '_'). */
const VOLUME_LOCATION = /^([a-z][a-z0-9._-]{0,67}):(.*)$/s;

export interface VolumeLocation {
  kind: "volume";
  volume: string;
  /** Volume-relative, without a leading "/" ("" is the root); checked by the server. */
  path: string;
  /** The argument as written, for messages. */
  text: string;
}

export interface LocalLocation {
  kind: "local";
  path: string;
  text: string;
}

export type Location = VolumeLocation | LocalLocation;

/** Reads a command-line argument as a volume location or a local path. */
export function parseLocation(text: string): Location {
  const match = VOLUME_LOCATION.exec(text);
  if (!match) return { kind: "local", path: text, text };
  const volume = match[1] ?? "";
  // "team-data:/raw" and "team-data:raw" are the same place; the server refuses "//" and the like.
  const rest = match[2] ?? "";
  const path = rest.startsWith("/") && !rest.startsWith("//") ? rest.slice(1) : rest;
  return { kind: "volume", volume, path, text };
}

/** Reads an argument that must be on a volume. */
export function volumeLocation(text: string, what: string): VolumeLocation {
  const location = parseLocation(text);
  if (location.kind !== "volume") throw new LocationError(`${what} ${JSON.stringify(text)} is not on a volume; write it as VOLUME:PATH, such as team-data:raw/data.csv (capstan storage ls lists your volumes)`);
  return location;
}

/** The last name of a volume path or of a local path ("" for a root). */
export function lastName(path: string): string {
  const trimmed = path.replace(/[/\\]+$/, "");
  return trimmed.slice(Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\")) + 1);
}

/** Joins a volume folder path and a name. */
export function joinVolumePath(folder: string, name: string): string {
  const base = folder.replace(/\/+$/, "");
  return base === "" ? name : `${base}/${name}`;
}

/** A command-line argument that cannot be read as a location. */
export class LocationError extends Error {
  override readonly name = "LocationError";
  readonly exitCode = 2;
}
