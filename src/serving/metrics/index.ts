/** Prometheus metrics of the model server. */
export { ServingMetrics } from "./serving-metrics.js";
