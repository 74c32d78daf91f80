/** Reading notebooks from http(s) URLs, VOLUME:PATH without a server, and the schemes refused with a message that names them. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotebookFormatError, NotebookLocationError } from "../errors.js";
import { parseS3Url } from "./s3-notebook.js";
import { refuseRemote, volumePath } from "./path-scheme.js";
import { readNotebookFile } from "../nbformat/read-notebook.js";

let server: Server;
let base: string;
const notebook = JSON.stringify({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 });

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === "/ok.ipynb") response.writeHead(200).end(notebook);
    else if (request.url === "/broken.ipynb") response.writeHead(200).end("{ not json");
    else response.writeHead(404, "Not Found").end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("notebook locations", () => {
  it("reads a notebook from an http URL", async () => {
    const read = await readNotebookFile(`${base}/ok.ipynb`);
    expect(read.nbformat).toBe(4);
  });

  it("names the status of a failed request and the place of bad JSON", async () => {
    await expect(readNotebookFile(`${base}/missing.ipynb`)).rejects.toThrow(/missing\.ipynb: cannot read the input notebook: HTTP 404 Not Found/);
    await expect(readNotebookFile(`${base}/broken.ipynb`)).rejects.toThrow(NotebookFormatError);
    await expect(readNotebookFile(`${base}/broken.ipynb`)).rejects.toThrow(/broken\.ipynb:1:3: not valid JSON/);
  });

  it("refuses schemes it cannot read, naming the scheme and what is accepted", async () => {
    for (const path of ["gs://bucket/in.ipynb", "abs://account/in.ipynb", "adl://store/in.ipynb", "hdfs://nn/in.ipynb"]) {
      const error = await readNotebookFile(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(NotebookLocationError);
      expect((error as Error).message).toContain(`${path.split(":")[0] ?? ""}:// notebooks cannot be read here; give a local path, - (stdin), an http(s):// URL, an s3:// URL or VOLUME:PATH`);
      expect((error as NotebookLocationError).exitCode).toBe(1);
    }
  });

  it("writes local paths, -, s3:// and VOLUME:PATH, and nothing over http", () => {
    expect(() => refuseRemote("out.ipynb", "write")).not.toThrow();
    expect(() => refuseRemote("-", "write")).not.toThrow();
    expect(() => refuseRemote("s3://bucket/out.ipynb", "write")).not.toThrow();
    expect(() => refuseRemote("gs://bucket/out.ipynb", "write")).toThrow(/gs:\/\/ notebooks cannot be written here; give a local path, - \(stdout\), an s3:\/\/ URL or VOLUME:PATH/);
    expect(() => refuseRemote("https://example.org/out.ipynb", "write")).toThrow(NotebookLocationError);
  });

  it("splits s3 URLs and refuses one without a bucket or a key", () => {
    expect(parseS3Url("s3://team-notebooks/reports/daily.ipynb")).toEqual({ bucket: "team-notebooks", key: "reports/daily.ipynb" });
    expect(parseS3Url("s3n://b/k.ipynb")).toEqual({ bucket: "b", key: "k.ipynb" });
    for (const bad of ["s3://", "s3://bucket", "s3://bucket/", "s3:///key.ipynb", "s3://bucket/folder/"]) {
      expect(() => parseS3Url(bad), bad).toThrow(/an s3 notebook is s3:\/\/BUCKET\/KEY/);
    }
  });

  it("reads VOLUME:PATH as a volume path only when the name is a volume name", async () => {
    expect(volumePath("team-data:notebooks/in.ipynb")).toEqual({ volume: "team-data", path: "notebooks/in.ipynb" });
    expect(volumePath("./team-data:in.ipynb")).toBeUndefined();
    expect(volumePath("Team:in.ipynb")).toBeUndefined();
    expect(volumePath("in.ipynb")).toBeUndefined();
    const error = await readNotebookFile("team-data:in.ipynb").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotebookLocationError);
    expect((error as Error).message).toMatch(/^team-data:in\.ipynb: VOLUME:PATH notebooks are read and written through a Capstan server/);
  });
});
