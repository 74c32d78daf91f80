/**
 * One request for a pod container's log (`GET …/pods/NAME/log`), with the cluster's credentials and
 * TLS settings from its KubeConfig. Unlike the client library's Log helper, it says when the
 * response ends or the connection drops, which is what a follower needs to reconnect.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { request as httpRequest } from "node:http";

/** Options of a log request (the API's query parameters). */
export interface PodLogRequestOptions {
  namespace: string;
  pod: string;
  container: string;
  follow: boolean;
  timestamps: boolean;
  /** RFC3339 time; only lines from then on. */
  sinceTime?: string;
}

/** A log request in flight. */
export interface PodLogRequest {
  /** Resolves when the response ends or the connection drops; rejects when the server refuses. */
  done: Promise<void>;
  abort(): void;
}

/** The API server answered with an error status. */
export class PodLogError extends Error {
  override readonly name = "PodLogError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Starts a log request; `onData` receives the body as it arrives. */
export async function requestPodLog(config: KubeConfig, options: PodLogRequestOptions, onData: (chunk: Buffer) => void): Promise<PodLogRequest> {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new PodLogError(0, "the kubeconfig has no current cluster");
  const url = new URL(`${cluster.server.replace(/\/$/, "")}/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods/${encodeURIComponent(options.pod)}/log`);
  url.searchParams.set("container", options.container);
  if (options.follow) url.searchParams.set("follow", "true");
  if (options.timestamps) url.searchParams.set("timestamps", "true");
  if (options.sinceTime !== undefined) url.searchParams.set("sinceTime", options.sinceTime);
  const requestOptions: RequestOptions = { method: "GET", headers: {} };
  await config.applyToHTTPSOptions(requestOptions);
  const request = url.protocol === "http:" ? httpRequest : httpsRequest;
  let abort: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    const req = request(url, requestOptions, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (text: string) => (body += text));
        res.on("end", () => {
          let message = body;
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? body;
          } catch {
            // not a Status object
          }
          reject(new PodLogError(status, message.trim() || `HTTP ${status}`));
        });
        res.on("error", () => reject(new PodLogError(status, `HTTP ${status}`)));
        return;
      }
      res.on("data", onData);
      res.on("end", () => resolve());
      res.on("aborted", () => resolve());
      res.on("error", () => resolve());
      res.on("close", () => resolve());
    });
    req.on("error", (error) => reject(error));
    req.on("socket", (socket) => socket.setKeepAlive(true, 15_000));
    req.end();
    abort = () => {
      req.destroy();
      resolve();
    };
  });
  return { done, abort: () => abort() };
}
