/** The capstan.yaml schema: where state lives, which database, executors, pools, server and clusters. */
import { isIP } from "node:net";
import { z } from "zod";
import { parseCpu, parseDuration, parseMemory } from "../units/index.js";
import { sandboxesSchema } from "./sandboxes-schema.js";
import { volumesSchema } from "./storage-schema.js";
import { pipelinesSchema } from "./pipelines-schema.js";

const duration = z.union([z.string(), z.number()]).refine((v) => parseDuration(v) !== undefined, { error: 'expected a duration such as "10s" or "5m"' });

export const configSchema = z.strictObject({
  home: z.string().optional(),
  /** Pipeline folders, and a git branch kept current (src/git-sync). */
  pipelines: pipelinesSchema.optional(),
  /** `sqlite` (the default, under home), a SQLite file path, or a postgres:// URL. */
  database: z.string().optional(),
  python: z.string().optional(),
  /** The executor of tasks that name none: local or kubernetes. */
  executor: z.enum(["local", "kubernetes"]).optional(),
  local: z
    .strictObject({
      parallelism: z.number().int().min(1).optional(),
      cpu: z.union([z.number(), z.string()]).refine((v) => parseCpu(v) !== undefined, { error: 'expected a CPU quantity such as 4 or "3500m"' }).optional(),
      memory: z.union([z.number(), z.string()]).refine((v) => parseMemory(v) !== undefined, { error: 'expected a memory quantity such as "16Gi"' }).optional(),
      gpus: z.array(z.number().int().min(0)).optional(),
      /** Largest log of one attempt; the rest is dropped after a marker line (0: no cap). */
      max_log_bytes: z.union([z.number().int().min(0), z.string()]).refine((v) => parseMemory(v) !== undefined, { error: 'expected a size in bytes such as 1073741824 or "1Gi", or 0 for no cap' }).optional(),
      /** The user local tasks run as when Capstan runs as root: a user name or uid:gid (default nobody). */
      run_as: z
        .string()
        .regex(/^(\d+:\d+|[A-Za-z_][A-Za-z0-9_.-]*\$?)$/, { error: 'expected a user name such as "nobody" or uid:gid such as "65534:65534"' })
        .refine((v) => !/^0:/.test(v) && v !== "root", { error: "tasks must not run as root; name an unprivileged user" })
        .optional(),
      /** auto: keep tasks out of the platform's home (the default); off: run them as the platform's user with its rights. */
      isolation: z.enum(["auto", "off"], { error: 'expected "auto" (tasks cannot see the platform\'s home) or "off"' }).optional(),
    })
    .optional(),
  kill_grace: duration.optional(),
  /** How long importing one TypeScript pipeline file may take before it is reported and stopped. */
  pipeline_load_timeout: duration.optional(),
  pools: z.record(z.string(), z.strictObject({ slots: z.number().int().min(0, { error: "slots must be a whole number ≥ 0" }), description: z.string().optional() })).optional(),
  server: z
    .strictObject({
      host: z.string().optional(),
      port: z.number().int().min(0).max(65535).optional(),
      /** Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: addresses, CIDR ranges, or loopback / linklocal / uniquelocal. */
      trusted_proxies: z.array(z.string().refine((v) => trustedProxyProblem(v) === undefined, { error: (issue) => trustedProxyProblem(String(issue.input)) ?? "" })).optional(),
      /** Failed sign-ins allowed within the window, per account (from any address) and per client address (for any account). */
      login_limits: z
        .strictObject({ per_account: z.number().int().min(1).optional(), per_address: z.number().int().min(1).optional(), window: duration.optional() })
        .optional(),
    })
    .optional(),
  scheduler: z.strictObject({ sweep_interval: duration.optional() }).optional(),
  notebooks: z.strictObject({ warm_kernels: z.number().int().min(0).max(32).optional(), kernelspecs: z.array(z.string()).optional() }).optional(),
  /** Kubernetes clusters by name, checked by the Kubernetes executor. */
  clusters: z.record(z.string(), z.unknown()).optional(),
  /** Personal JupyterLab sandboxes: origin, profiles, quotas. */
  sandboxes: sandboxesSchema.optional(),
  /** Team volumes: local folders, mounted claims and S3 bucket prefixes (src/storage). */
  volumes: volumesSchema.optional(),
  /** The model registry: `store` names, per team, the team's volume that its versions are written to (default: the home). */
  models: z.strictObject({ store: z.record(z.string(), z.string({ error: "expected the name of a volume of that team" })).optional() }).optional(),
});

export type ConfigFile = z.output<typeof configSchema>;

/** What is wrong with one entry of server.trusted_proxies (undefined: nothing). */
export function trustedProxyProblem(entry: string): string | undefined {
  if (["loopback", "linklocal", "uniquelocal"].includes(entry)) return undefined;
  const [address = "", bits, ...rest] = entry.split("/");
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  if (family !== 0 && rest.length === 0 && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max))) return undefined;
  return `${JSON.stringify(entry)} is not a proxy address: expected an IP address (10.0.0.5), a CIDR range (10.0.0.0/8, fd00::/8), or loopback, linklocal or uniquelocal`;
}
