/** A version's metrics: the numeric outputs a task reported. */

/** The finite numbers among a task's outputs. */
export function numericOutputs(outputs: Record<string, unknown> | null): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(outputs ?? {})) if (typeof value === "number" && Number.isFinite(value)) metrics[key] = value;
  return metrics;
}
