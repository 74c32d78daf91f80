/** Prometheus metrics of the platform: the registry and the events and readings that fill it. */
export { PlatformMetrics, type KernelPoolFigures, type KubeRequestCounts, type StateCounts } from "./platform-metrics.js";
