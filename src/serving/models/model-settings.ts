/**
 * A model version's settings from three places, lowest priority first: the server's config
 * (config.properties / flags), the archive's YAML (`configFile`), then the register call.
 */

/** The settings a version runs with. */
export interface ModelSettings {
  minWorkers: number;
  maxWorkers: number;
  batchSize: number;
  maxBatchDelayMs: number;
  responseTimeoutS: number;
  startupTimeoutS: number;
  deviceType: "cpu" | "gpu" | "";
  deviceIds: number[];
}

/** What a register call (or --models at start) asked for; undefined means "not given". */
export interface RegisterParams {
  initialWorkers?: number | undefined;
  batchSize?: number | undefined;
  maxBatchDelayMs?: number | undefined;
  responseTimeoutS?: number | undefined;
  startupTimeoutS?: number | undefined;
}

/** Server-wide defaults. */
export interface ServerDefaults {
  workersPerModel: number;
  responseTimeoutS: number;
  startupTimeoutS: number;
}

const int = (value: unknown): number | undefined => (typeof value === "number" && Number.isInteger(value) ? value : typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : undefined);

/** Combines server defaults, the archive's YAML and the call's parameters. */
export function resolveModelSettings(defaults: ServerDefaults, yaml: Record<string, unknown>, params: RegisterParams): ModelSettings {
  const yamlMin = int(yaml["minWorkers"]);
  const yamlMax = int(yaml["maxWorkers"]);
  const yamlWorkers = yamlMin !== undefined && yamlMin > 0 && (yamlMax === undefined || yamlMax >= yamlMin) ? yamlMin : undefined;
  const workers = params.initialWorkers !== undefined && params.initialWorkers > 0 ? params.initialWorkers : (yamlWorkers ?? params.initialWorkers ?? defaults.workersPerModel);
  const deviceType = yaml["deviceType"] === "cpu" || yaml["deviceType"] === "gpu" ? yaml["deviceType"] : "";
  const deviceIds = Array.isArray(yaml["deviceIds"]) ? yaml["deviceIds"].map(int).filter((n): n is number => n !== undefined && n >= 0) : [];
  const positive = (...values: Array<number | undefined>): number | undefined => values.find((v) => v !== undefined && v > 0);
  return {
    minWorkers: Math.max(0, workers),
    maxWorkers: Math.max(0, yamlWorkers !== undefined && params.initialWorkers === undefined ? (yamlMax ?? workers) : workers),
    batchSize: positive(params.batchSize, int(yaml["batchSize"])) ?? 1,
    maxBatchDelayMs: [params.maxBatchDelayMs, int(yaml["maxBatchDelay"])].find((v) => v !== undefined && v >= 0) ?? 100,
    responseTimeoutS: positive(params.responseTimeoutS, int(yaml["responseTimeout"])) ?? defaults.responseTimeoutS,
    startupTimeoutS: positive(params.startupTimeoutS, int(yaml["startupTimeout"])) ?? defaults.startupTimeoutS,
    deviceType,
    deviceIds,
  };
}
