/**
 * The model server's Prometheus metrics, named as TorchServe's frontend names them, with labels
 * model_name, model_version ("default" when the request named none) and hostname. Latencies are
 * counters of summed microseconds, as TorchServe's are; served on by default.
 */
import { hostname } from "node:os";
import { Counter, Gauge, Registry } from "prom-client";

/** The metrics of one server. */
export class ServingMetrics {
  readonly registry = new Registry();
  private readonly host = hostname();
  private readonly requests = new Counter({ name: "ts_inference_requests_total", help: "Total number of inference requests received.", labelNames: ["model_name", "model_version", "hostname"], registers: [this.registry] });
  private readonly inferenceLatency = new Counter({ name: "ts_inference_latency_microseconds", help: "Cumulative inference duration in microseconds.", labelNames: ["model_name", "model_version", "hostname"], registers: [this.registry] });
  private readonly queueLatency = new Counter({ name: "ts_queue_latency_microseconds", help: "Cumulative queue duration in microseconds.", labelNames: ["model_name", "model_version", "hostname"], registers: [this.registry] });
  private readonly readyWorkers: Gauge;

  constructor(readyWorkersOf: () => Array<{ model: string; version: string; ready: number }>) {
    this.readyWorkers = new Gauge({
      name: "capstan_serving_ready_workers",
      help: "Workers loaded and serving, per model version.",
      labelNames: ["model_name", "model_version"],
      registers: [this.registry],
      collect: () => {
        this.readyWorkers.reset();
        for (const row of readyWorkersOf()) this.readyWorkers.set({ model_name: row.model, model_version: row.version }, row.ready);
      },
    });
  }

  /** A request reached a model. */
  requestReceived(model: string, version: string | undefined): void {
    this.requests.inc({ model_name: model, model_version: version ?? "default", hostname: this.host });
  }

  /** A request was answered: total time and time spent in the queue, in nanoseconds. */
  requestAnswered(model: string, version: string | undefined, totalNs: bigint, queueNs: bigint): void {
    const labels = { model_name: model, model_version: version ?? "default", hostname: this.host };
    this.inferenceLatency.inc(labels, Number(totalNs) / 1000);
    this.queueLatency.inc(labels, Number(queueNs) / 1000);
  }
}
