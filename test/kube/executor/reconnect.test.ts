/**
 * Connections to the API server that drop: the pod informer restarts (with backoff) after its watch
 * fails and catches up on what happened meanwhile, and a followed pod log reconnects and goes on
 * without writing a line twice. The test cuts the connections with a TCP relay it controls in front
 * of the real API server.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { parse, stringify } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { KubeClusters, LABELS, MANAGED_BY, parseClusters, PodInformer, PodLogStream, RequestCounter } from "../../../src/executors/kubernetes/kube/index.js";
import { podBehaviour, setPodLog, toCriLog } from "../../support/kube-testenv.js";
import { coreApi, eventually, kubeTestenv, TEST_IMAGE, waitForPod } from "./kube-harness.js";

/** A TCP relay to the API server that the test can cut and restore. */
class Relay {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on("close", () => this.#sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Stops accepting connections and drops the open ones. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let relay: Relay | undefined;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await relay?.cut();
  relay = undefined;
});

/** Clusters whose kubeconfig points at a relay in front of the test plane's API server. */
async function relayedCluster() {
  const env = await kubeTestenv();
  const url = new URL(env.server);
  relay = new Relay({ host: url.hostname, port: Number(url.port) });
  await relay.open();
  const kubeconfig = parse(readFileSync(env.kubeconfigPath, "utf8")) as { clusters: { cluster: { server: string } }[] };
  for (const c of kubeconfig.clusters) c.cluster.server = `https://127.0.0.1:${relay.port}`;
  const file = join(mkdtempSync(join(tmpdir(), "capstan-relay-")), "kubeconfig");
  writeFileSync(file, stringify(kubeconfig));
  const clusters = new KubeClusters(parseClusters({ cpu: { kubeconfig: file, context: env.contexts.cpu.name } }, { file: null, baseDir: "/" }), new RequestCounter());
  return { env, cluster: clusters.get("cpu"), namespace: env.contexts.cpu.namespace, core: coreApi(env) };
}

function managedPod(name: string, outcome: "running" | "complete"): V1Pod {
  const behaviour = podBehaviour({ outcome });
  return { metadata: { name, labels: { ...behaviour.labels, [LABELS.managedBy]: MANAGED_BY } }, spec: { restartPolicy: "Never", containers: [{ name: "task", image: TEST_IMAGE }] } };
}

describe("dropped connections", () => {
  it("restarts the pod informer after its watch fails and sees what changed meanwhile", { timeout: 120_000 }, async () => {
    const { cluster, namespace, core } = await relayedCluster();
    const seen = new Set<string>();
    const errors: number[] = [];
    let syncs = 0;
    const informer = new PodInformer({
      cluster,
      namespace,
      counter: new RequestCounter(),
      onEvent: (_type, pod) => seen.add(pod.metadata?.name ?? ""),
      onSynced: () => (syncs += 1),
      onError: (_error, retryInMs) => errors.push(retryInMs),
      initialBackoffMs: 100,
      maxBackoffMs: 400,
    });
    stops.push(() => informer.stop());
    await informer.start();
    expect(await informer.whenSynced(30_000)).toBe(true);
    await relay?.cut();
    await eventually("watch failure noticed", () => errors.length >= 2);
    expect(errors.slice(0, 3)).toEqual([100, 200, 400].slice(0, Math.min(3, errors.length)));
    const name = `relay-${randomBytes(4).toString("hex")}`;
    await core.createNamespacedPod({ namespace, body: managedPod(name, "complete") });
    stops.push(async () => void (await core.deleteNamespacedPod({ namespace, name }).catch(() => undefined)));
    await relay?.open();
    await eventually("informer caught up", () => seen.has(name) && informer.synced);
    expect(syncs).toBeGreaterThanOrEqual(2);
    expect(informer.get(name)?.metadata?.name).toBe(name);
  });

  it("reconnects a followed log after the connection drops, writing each line once", { timeout: 120_000 }, async () => {
    const { env, cluster, namespace, core } = await relayedCluster();
    const name = `relay-log-${randomBytes(4).toString("hex")}`;
    const logFile = await setPodLog(env, { namespace, pod: name, text: "line 1\nline 2\n" });
    await core.createNamespacedPod({ namespace, body: managedPod(name, "running") });
    stops.push(async () => void (await core.deleteNamespacedPod({ namespace, name }).catch(() => undefined)));
    await waitForPod(core, namespace, name, (p) => p.status?.phase === "Running");
    const path = join(mkdtempSync(join(tmpdir(), "capstan-log-")), "1.log");
    const counter = new RequestCounter();
    const stream = new PodLogStream({ config: cluster.config, namespace, pod: name, container: "task", path, counter, initialBackoffMs: 100, maxBackoffMs: 400 });
    stops.push(() => stream.stop());
    stream.follow();
    const text = () => {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return "";
      }
    };
    await eventually("first lines", () => text().includes("line 2"));
    await relay?.cut();
    await appendFile(logFile, toCriLog("line 3\n"));
    await relay?.open();
    await eventually("line written while cut", () => text().includes("line 3"));
    await appendFile(logFile, toCriLog("line 4\n"));
    await eventually("line after the reconnect", () => text().includes("line 4"));
    await stream.finish({ readRest: true, timeoutMs: 30_000 });
    expect(text()).toBe("line 1\nline 2\nline 3\nline 4\n");
    expect(counter.snapshot().byKind.log).toBeGreaterThanOrEqual(3);
  });
});
