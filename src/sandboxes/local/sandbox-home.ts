/**
 * A local sandbox's folders under Capstan's home: its home (kept across stops, removed only on a
 * confirmed delete), the team's shared folders linked into it, and a private runtime folder
 * (Jupyter configuration with the token, the server's log) that the browser never sees.
 */
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import type { VolumeMount } from "../profiles.js";

export interface SandboxFolders {
  home: string;
  runDir: string;
  configDir: string;
  runtimeDir: string;
  configFile: string;
  logFile: string;
}

/** The folders of sandbox `id` under `root` ($CAPSTAN_HOME/sandboxes). */
export function sandboxFolders(root: string, id: string): SandboxFolders {
  const runDir = join(root, "run", id);
  return {
    home: join(root, "homes", id),
    runDir,
    configDir: join(runDir, "jupyter-config"),
    runtimeDir: join(runDir, "jupyter-runtime"),
    configFile: join(runDir, "jupyter_server_config.py"),
    logFile: join(runDir, "jupyterlab.log"),
  };
}

/** The folder of a team volume on this machine. */
export function teamVolumeFolder(root: string, team: string, volume: string): string {
  return join(root, "volumes", team, volume);
}

/** Makes the home and runtime folders (0700) and links the team's volumes at their paths in the home. */
export function prepareFolders(root: string, folders: SandboxFolders, team: string, volumes: readonly VolumeMount[]): void {
  for (const dir of [folders.home, folders.runDir, folders.configDir, folders.runtimeDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const volume of volumes) {
    const source = teamVolumeFolder(root, team, volume.name);
    mkdirSync(source, { recursive: true, mode: 0o770 });
    const target = resolve(folders.home, volume.path);
    if (!target.startsWith(folders.home + sep)) continue; // the schema refuses such paths; never link outside the home
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    let present = false;
    try {
      lstatSync(target);
      present = true;
    } catch {
      // not there yet
    }
    if (!present) symlinkSync(source, target, "dir");
  }
}

/** Removes the home for good, and the runtime folder. */
export function removeFolders(folders: SandboxFolders): void {
  rmSync(folders.home, { recursive: true, force: true });
  rmSync(folders.runDir, { recursive: true, force: true });
}

export function homeExists(folders: SandboxFolders): boolean {
  return existsSync(folders.home);
}
