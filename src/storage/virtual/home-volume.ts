/**
 * A user's sandbox homes as one volume, `home-USER`: its root lists the user's sandboxes by name,
 * and each is that sandbox's home folder on this machine (a local storage, so symbolic links that
 * lead out of the home, such as the team folders linked in at ~/shared, are refused and left out
 * of listings). Only the owner is ever handed this volume; the caller decides that.
 */
import { stat } from "node:fs/promises";
import { LocalStorage } from "../local/local-storage.js";
import type { Storage } from "../storage.js";
import { VirtualTreeStorage, type TreeChild } from "./virtual-tree-storage.js";

/** The name of a user's home volume. */
export function homeVolumeName(username: string): string {
  return `home-${username}`;
}

/** True when a volume name has the form of a home volume (configured volumes may not take such names). */
export function isHomeVolumeName(name: string): boolean {
  return name.startsWith("home-");
}

/** A sandbox whose home lives in a folder on this machine. */
export interface SandboxHome {
  /** The sandbox's name, unique per owner. */
  name: string;
  /** Its home folder. */
  folder: string;
}

/** The home volume's storage over the sandboxes `homes()` names (asked again on every request). */
export function homeVolumeStorage(homes: () => Promise<SandboxHome[]>): Storage {
  const mounts = new Map<string, LocalStorage>();
  const storageOf = (home: SandboxHome) => {
    let storage = mounts.get(home.folder);
    if (storage === undefined) mounts.set(home.folder, (storage = new LocalStorage({ root: home.folder })));
    return storage;
  };
  const existing = async () => {
    const found: (SandboxHome & { modified: number })[] = [];
    for (const home of await homes()) {
      const info = await stat(home.folder).catch(() => undefined);
      if (info?.isDirectory() === true) found.push({ ...home, modified: info.mtimeMs });
    }
    return found;
  };
  return new VirtualTreeStorage(
    async (segments) => {
      const [name, ...rest] = segments;
      if (name === undefined)
        return { kind: "folder", children: async () => (await existing()).map((home): TreeChild => ({ name: home.name, type: "folder", size: 0, modified: home.modified })) };
      const home = (await existing()).find((candidate) => candidate.name === name);
      return home === undefined ? undefined : { kind: "mount", storage: storageOf(home), prefix: name, inner: rest.join("/") };
    },
    { fixedFolderMessage: "the root of a home volume lists your sandboxes; work inside one of their folders" },
  );
}
