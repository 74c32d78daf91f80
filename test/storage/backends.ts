/**
 * The backends the storage contract suite runs against, each a fresh empty volume: a local folder
 * (with a sibling folder "scopeX" beside the volume "scope", to catch prefix confusion) and a
 * bucket prefix on a real S3 server (versitygw, test/support/s3-testenv.ts), and a folder of a real
 * HDFS over WebHDFS (a Hadoop minicluster, test/support/hadoop-testenv.ts). Each can also fill a
 * folder with many empty files quickly (straight on disk, or many WebHDFS requests at once), for
 * the listing tests.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { closeSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { LocalStorage, S3Storage, WebHdfsStorage, type Storage } from "../../src/storage/index.js";
import { startHadoopTestenv, type HadoopTestenv } from "../support/hadoop-testenv.js";
import { startS3Testenv, type S3Testenv } from "../support/s3-testenv.js";

/** A volume under test and what the suite needs to know about it. */
export interface BackendUnderTest {
  storage: Storage;
  /** A folder outside the volume whose name extends the volume's ("scopeX" beside "scope"), holding secret.txt. */
  outsideDir: string | undefined;
  /** Makes `count` empty files named f000000… in folder `path` of the volume, bypassing the API for speed. */
  fillFolder(path: string, count: number): Promise<void>;
  /** The S3 bucket of the volume (its prefix is "team/vol"); undefined for local volumes. */
  bucket?: string;
  /**
   * How many entries the large-folder case fills (default 100,000). Capability of a backend whose
   * fill goes through its API (WebHDFS: two requests per file), where 100,000 would take minutes;
   * it still spans several of the server's listing batches.
   */
  bigFolderEntries?: number;
  close(): Promise<void>;
}

/** A backend kind: its name and how to open a fresh volume of it. */
export interface BackendKind {
  name: string;
  open(): Promise<BackendUnderTest>;
}

export const SECRET = "outside the volume\n";

/** Above this size the S3 backend under test copies an object in parts (the real threshold, 5 GiB, lowered). */
export const COPY_PART_THRESHOLD = 5 * 1024 * 1024;

export const localBackend: BackendKind = {
  name: "local",
  async open() {
    const base = await mkdtemp(join(tmpdir(), "capstan-storage-"));
    const root = join(base, "scope");
    const outsideDir = join(base, "scopeX");
    await mkdir(root);
    await mkdir(outsideDir);
    await writeFile(join(outsideDir, "secret.txt"), SECRET);
    return {
      storage: new LocalStorage({ root }),
      outsideDir,
      fillFolder: (path, count) => fillOnDisk(join(root, path), count),
      close: () => rm(base, { recursive: true, force: true }),
    };
  },
};

/** One S3 server for the file; each volume is a new bucket with the prefix "team/vol". */
export function s3Backend(): BackendKind & { stopServer(): Promise<void> } {
  let server: S3Testenv | undefined;
  return {
    name: "s3",
    async open() {
      server ??= await startS3Testenv();
      const bucket = await server.createBucket();
      const prefix = "team/vol";
      const dataDir = server.dataDir;
      return {
        storage: new S3Storage({
          endpoint: server.endpoint,
          region: server.region,
          bucket,
          prefix,
          forcePathStyle: true,
          credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
          // Objects over 5 MiB are copied in 5 MiB parts (UploadPartCopy), as those over 5 GiB are by default.
          copyPartThreshold: COPY_PART_THRESHOLD,
          copyPartSize: COPY_PART_THRESHOLD,
        }),
        outsideDir: undefined,
        bucket,
        // versitygw's posix backend serves the files of <data>/<bucket>/<key> as objects.
        fillFolder: (path, count) => fillOnDisk(join(dataDir, bucket, prefix, path), count),
        close: () => Promise.resolve(),
      };
    },
    async stopServer() {
      await server?.stop();
      server = undefined;
    },
  };
}

async function fillOnDisk(folder: string, count: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (let i = 0; i < count; i += 1) closeSync(openSync(join(folder, `f${String(i).padStart(6, "0")}`), "w"));
}

/** The namenode's listing batch (dfs.ls.limit) the test minicluster is started with. */
export const HDFS_LIST_BATCH = 500;

/** One Hadoop minicluster for the file; each volume is a new HDFS folder /vols/<n>/scope, with /vols/<n>/scopeX beside it. */
export function webhdfsBackend(): BackendKind & { stopServer(): Promise<void>; server(): Promise<HadoopTestenv> } {
  let server: Promise<HadoopTestenv> | undefined;
  let count = 0;
  const start = (): Promise<HadoopTestenv> => (server ??= startHadoopTestenv());
  return {
    name: "webhdfs",
    server: start,
    async open() {
      const hadoop = await start();
      count += 1;
      const base = `/vols/${count}`;
      const admin = new WebHdfsStorage({ url: hadoop.webhdfsUrl, user: "admin" });
      await admin.mkdir(`${base.slice(1)}/scope`);
      await admin.write(`${base.slice(1)}/scopeX/secret.txt`, Readable.from([Buffer.from(SECRET)]));
      const storage = new WebHdfsStorage({ url: hadoop.webhdfsUrl, root: `${base}/scope`, user: "capstan" });
      return {
        storage,
        outsideDir: undefined,
        bigFolderEntries: 2 * HDFS_LIST_BATCH + 7,
        async fillFolder(path, total) {
          let next = 0;
          const worker = async (): Promise<void> => {
            for (let i = next++; i < total; i = next++) await storage.write(`${path}/f${String(i).padStart(6, "0")}`, Readable.from([]));
          };
          await Promise.all(Array.from({ length: 16 }, worker));
        },
        async close() {
          await admin.delete(base.slice(1));
        },
      };
    },
    async stopServer() {
      const running = server;
      server = undefined;
      await (await running)?.close();
    },
  };
}
