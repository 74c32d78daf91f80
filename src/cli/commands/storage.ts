/**
 * `capstan storage ls|cp|mv|rm|mkdir|share|shares|unshare`: files on team volumes through a running
 * Capstan, addressed as VOLUME:PATH; plain paths are files on this machine.
 */
import type { Command } from "commander";
import { globalOptions, withClient } from "../context.js";
import { ClientError } from "../errors.js";
import { shortTime } from "../format.js";
import { printJson, printTable } from "../output.js";

const ADDRESSING = `
Files on a volume are written VOLUME:PATH (team-data:raw/2026-11-30.csv; team-data: is the volume's
root); anything else is a path on this machine. A local path that starts with a name and a colon,
such as a:b, must be written ./a:b. Beside the team volumes, home-USER holds your sandboxes' homes
(home-ann:lab/notes.txt) and runs the outputs of your teams' runs, read-only
(runs:PIPELINE/RUN/artifacts/..., runs:PIPELINE/RUN/notebooks/TASK.ipynb). Storage needs a running
Capstan (capstan up, or --server URL).`;

interface CpOptions {
  recursive?: boolean;
  overwrite?: boolean;
}

/** --expires as seconds: "24h", "7d", "90m", or a number of seconds. */
async function expirySeconds(text: string): Promise<number> {
  const { DURATION_HINT, parseDuration } = await import("../../units/index.js");
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000) throw new ClientError(`--expires ${JSON.stringify(text)}: expected ${DURATION_HINT} (at least 1s)`, 2);
  return Math.round(ms / 1000);
}

export function registerStorageCommands(program: Command): void {
  const storage = program.command("storage").description("files on team volumes: list, copy to and from this machine, move, delete, share links").addHelpText("after", ADDRESSING);

  storage
    .command("ls [location]")
    .description("your volumes, or the entries of VOLUME:PATH (a folder's in name order)")
    .addHelpText("after", ADDRESSING)
    .action(async (text: string | undefined, _opts: unknown, command: Command) => {
      const json = globalOptions(command).json;
      await withClient(command, async (client) => {
        const { folderEntries, formatBytes, volumeLocation } = await import("../storage/index.js");
        if (text === undefined) {
          const volumes = await client.storage.volumes();
          if (json) printJson({ volumes });
          else printTable(["VOLUME", "TEAM", "KIND", "ACCESS", "DESCRIPTION"], volumes.map((v) => [v.name, v.owner ?? (v.team === "" ? "(your teams)" : v.team), v.kind, v.readOnly ? "read-only" : v.canWrite ? "read-write" : "read", v.description ?? ""]));
          return;
        }
        const location = volumeLocation(text, "ls");
        const entry = await client.storage.stat(location.volume, location.path);
        const entries = [];
        if (entry.type === "file") entries.push(entry);
        else for await (const child of folderEntries(client.storage, location.volume, entry.path)) entries.push(child);
        if (json) printJson({ volume: location.volume, path: entry.path, type: entry.type, entries });
        else printTable(["TYPE", "SIZE", "MODIFIED", "NAME"], entries.map((e) => [e.type, e.type === "file" ? formatBytes(e.size) : "-", shortTime(e.modified ?? null), e.type === "folder" ? `${e.name}/` : e.name]));
      });
    });

  storage
    .command("cp <source> <target>")
    .description("copy a file (or with -r a folder) from this machine to a volume, from a volume to this machine, or between volumes")
    .option("-r, --recursive", "copy folders and everything in them")
    .option("--overwrite", "replace files that exist at the target")
    .addHelpText(
      "after",
      `${ADDRESSING}
A target that is an existing folder, or ends in "/", receives the source under its own name.
Uploads use the tus protocol and go on after a dropped connection; a download is written to
NAME.capstan-part and renamed when complete, and running the same cp again goes on from that part.
A progress bar is drawn on stderr when it is a terminal.`,
    )
    .action(async (from: string, to: string, opts: CpOptions, command: Command) => {
      const json = globalOptions(command).json;
      await withClient(command, async (client) => {
        const { copyEntries, parseLocation, transferProgress } = await import("../storage/index.js");
        const progress = transferProgress(!json);
        try {
          const copied = await copyEntries(client.storage, parseLocation(from), parseLocation(to), { recursive: opts.recursive ?? false, overwrite: opts.overwrite ?? false, progress });
          progress.end();
          if (json) printJson({ copied });
          else for (const c of copied) console.log(`${c.from} -> ${c.to}`);
        } finally {
          progress.end();
        }
      });
    });

  storage
    .command("mv <source> <target>")
    .description("move or rename a file or folder within one volume (a target folder receives it under its own name)")
    .option("--overwrite", "replace a file that exists at the target")
    .addHelpText("after", ADDRESSING)
    .action(async (from: string, to: string, opts: { overwrite?: boolean }, command: Command) => {
      await withClient(command, async (client) => {
        const { isNotFound, joinVolumePath, volumeLocation } = await import("../storage/index.js");
        const source = volumeLocation(from, "mv source");
        const target = volumeLocation(to, "mv target");
        if (source.volume !== target.volume) throw new ClientError(`mv moves within one volume; to move from ${source.volume} to ${target.volume}, use capstan storage cp -r and then rm -r`, 2);
        const entry = await client.storage.stat(source.volume, source.path);
        let path = target.path;
        if (path === "" || path.endsWith("/")) path = joinVolumePath(path, entry.name);
        else {
          const existing = await client.storage.stat(target.volume, path).catch((error: unknown) => {
            if (isNotFound(error)) return undefined;
            throw error;
          });
          if (existing?.type === "folder") path = joinVolumePath(path, entry.name);
        }
        const moved = await client.storage.move(source.volume, entry.path, path, opts.overwrite ?? false);
        if (globalOptions(command).json) printJson({ from: `${source.volume}:${entry.path}`, entry: moved });
        else console.log(`${source.volume}:${entry.path} -> ${target.volume}:${moved.path}`);
      });
    });

  storage
    .command("rm <location>")
    .description("delete a file, or with -r a folder and everything in it")
    .option("-r, --recursive", "delete folders and everything in them")
    .action(async (text: string, opts: { recursive?: boolean }, command: Command) => {
      await withClient(command, async (client) => {
        const { volumeLocation } = await import("../storage/index.js");
        const location = volumeLocation(text, "rm");
        if (location.path.replace(/\/+$/, "") === "") throw new ClientError(`rm does not delete a volume's root (${text}); delete what is in it by name`, 2);
        const entry = await client.storage.stat(location.volume, location.path);
        if (entry.type === "folder" && !opts.recursive) throw new ClientError(`${text} is a folder; use -r to delete it and everything in it`, 2);
        await client.storage.remove(location.volume, entry.path, entry.type === "folder");
        if (globalOptions(command).json) printJson({ deleted: `${location.volume}:${entry.path}`, type: entry.type });
        else console.log(`deleted ${location.volume}:${entry.path}${entry.type === "folder" ? "/" : ""}`);
      });
    });

  storage
    .command("mkdir <location>")
    .description("make a folder and any missing parents (an existing folder is fine)")
    .action(async (text: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        const { volumeLocation } = await import("../storage/index.js");
        const location = volumeLocation(text, "mkdir");
        const entry = await client.storage.mkdir(location.volume, location.path);
        if (globalOptions(command).json) printJson({ entry });
        else console.log(`${location.volume}:${entry.path}/`);
      });
    });

  storage
    .command("share <location>")
    .description("make a read-only link to a file or folder that works without a Capstan account, and print its URL")
    .option("--expires <duration>", 'how long the link works: "24h", "7d", "90m" or seconds (default: the server\'s)')
    .option("--password <password>", "a password asked for on every download of the link")
    .action(async (text: string, opts: { expires?: string; password?: string }, command: Command) => {
      await withClient(command, async (client) => {
        const { volumeLocation } = await import("../storage/index.js");
        const location = volumeLocation(text, "share");
        const share = await client.storage.createShare({
          volume: location.volume,
          path: location.path,
          ...(opts.expires !== undefined ? { expiresIn: await expirySeconds(opts.expires) } : {}),
          ...(opts.password !== undefined ? { password: opts.password } : {}),
        });
        if (globalOptions(command).json) printJson({ share });
        else console.log(share.url);
      });
    });

  storage
    .command("shares")
    .description("your share links with their download counts")
    .option("--all", "every user's links (platform admins)")
    .action(async (opts: { all?: boolean }, command: Command) => {
      await withClient(command, async (client) => {
        const shares = await client.storage.shares({ all: opts.all ?? false });
        if (globalOptions(command).json) printJson({ shares });
        else printTable(["ID", "WHAT", "TYPE", "EXPIRES", "PASSWORD", "DOWNLOADS", "URL"], shares.map((s) => [s.id, `${s.volume}:${s.path}`, s.type, s.expiresAt ? shortTime(s.expiresAt) : "never", s.passwordProtected ? "yes" : "no", s.downloads, s.url]));
      });
    });

  storage
    .command("unshare <id>")
    .description("revoke a share link at once")
    .action(async (id: string, _opts: unknown, command: Command) => {
      await withClient(command, async (client) => {
        await client.storage.unshare(id);
        if (globalOptions(command).json) printJson({ revoked: id });
        else console.log(`revoked ${id}`);
      });
    });
}
