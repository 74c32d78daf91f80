/** Reading notebooks from http(s) URLs, and the schemes refused with a message that names them. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotebookFormatError, NotebookLocationError } from "../errors.js";
import { refuseRemote } from "./notebook-location.js";
import { readNotebookFile } from "./read-notebook.js";

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
    for (const path of ["s3://bucket/in.ipynb", "gs://bucket/in.ipynb", "abs://account/in.ipynb", "hdfs://nn/in.ipynb"]) {
      const error = await readNotebookFile(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(NotebookLocationError);
      expect((error as Error).message).toContain(`${path.split(":")[0] ?? ""}:// notebooks cannot be read here; give a local path, - (stdin) or an http(s):// URL`);
      expect((error as NotebookLocationError).exitCode).toBe(1);
    }
  });

  it("writes local paths and - only", () => {
    expect(() => refuseRemote("out.ipynb", "write")).not.toThrow();
    expect(() => refuseRemote("-", "write")).not.toThrow();
    expect(() => refuseRemote("s3://bucket/out.ipynb", "write")).toThrow(/s3:\/\/ notebooks cannot be written here; give a local path or - \(stdout\)/);
    expect(() => refuseRemote("https://example.org/out.ipynb", "write")).toThrow(NotebookLocationError);
  });
});
