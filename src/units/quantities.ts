/**
 * Resource quantities in Kubernetes notation: CPU as cores or millicores ("2", "500m"), memory as
 * bytes with binary or decimal suffixes ("4Gi", "512Mi", "1G", "1e9").
 */

const MEMORY_SUFFIX: Record<string, number> = {
  "": 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const MEMORY = /^(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const CPU = /^(\d+(?:\.\d+)?)(m)?$/;

export const MEMORY_HINT = 'a memory quantity such as "512Mi", "4Gi", "1G" or a number of bytes';
export const CPU_HINT = 'a CPU quantity such as 2, 0.5 or "500m"';

/** Parses a memory quantity into bytes; undefined when it does not parse. */
export function parseMemory(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = MEMORY.exec(value.trim());
  if (!match) return undefined;
  return Math.ceil(Number(match[1]) * (MEMORY_SUFFIX[match[2] ?? ""] ?? 1));
}

/** Parses a CPU quantity into cores; undefined when it does not parse. */
export function parseCpu(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = CPU.exec(value.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  return match[2] ? n / 1000 : n;
}

/** Formats bytes with a binary suffix for messages ("4Gi"). */
export function formatMemory(bytes: number): string {
  for (const [suffix, size] of [["Gi", 2 ** 30], ["Mi", 2 ** 20], ["Ki", 2 ** 10]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))}${suffix}`;
  }
  return `${bytes}`;
}
