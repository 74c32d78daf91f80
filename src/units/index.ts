/**
 * Units as pipeline files and capstan.yaml write them: durations ("30s", "1h30m") and resource
 * quantities in Kubernetes notation (CPU "500m", memory "4Gi"), parsed, formatted for messages, and
 * as schema fields.
 */
export { DURATION_HINT, formatDuration, parseDuration } from "./durations.js";
export { CPU_HINT, formatMemory, MEMORY_HINT, parseCpu, parseMemory } from "./quantities.js";
export { cpuField, durationField, memoryField } from "./unit-fields.js";
