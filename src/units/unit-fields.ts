/**
 * Schema fields (zod) for durations and quantities in pipeline files and pod options: a string or a
 * number that must parse, with an error that shows what was written and what is accepted.
 */
import { z } from "zod";
import { DURATION_HINT, parseDuration } from "./durations.js";
import { CPU_HINT, MEMORY_HINT, parseCpu, parseMemory } from "./quantities.js";

/** A field parsed by `parse`, a string or a number; `hint` says what it may look like. */
function unitField(hint: string, parse: (value: string | number) => number | undefined) {
  return z.union([z.string(), z.number()], { error: `expected ${hint}` }).refine((v) => parse(v) !== undefined, {
    error: (issue) => `${JSON.stringify(issue.input)} is not ${hint}`,
  });
}

/** A duration: "30s", "10m", "1h30m", or a number of seconds. */
export const durationField = unitField(DURATION_HINT, parseDuration);
/** A memory quantity: "512Mi", "4Gi", or a number of bytes. */
export const memoryField = unitField(MEMORY_HINT, parseMemory);
/** A CPU quantity: 2, 0.5 or "500m". */
export const cpuField = unitField(CPU_HINT, parseCpu);
