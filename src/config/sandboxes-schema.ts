/**
 * The `sandboxes:` section of capstan.yaml: the origin sandboxes are served from, the profiles admins
 * offer (image, resources, cluster, idle timeout, team volumes), and per-team quotas.
 */
import { z } from "zod";
import { cpuField, durationField, memoryField } from "../units/index.js";

/** A DNS label-ish name for profiles and volumes: lowercase letters, digits and '-'. */
const profileName = /^[a-z][a-z0-9-]{0,39}$/;

/** A team volume mounted into a sandbox: by name (at ~/shared/NAME) or with the folder under the home. */
const volumeMount = z.union([
  z.string().regex(profileName, { error: "a volume name uses lowercase letters, digits and '-', starting with a letter" }),
  z.strictObject({
    name: z.string().regex(profileName, { error: "a volume name uses lowercase letters, digits and '-', starting with a letter" }),
    /** Where it appears, relative to the sandbox's home (default shared/NAME). */
    path: z
      .string()
      .refine((p) => !p.startsWith("/") && !p.split("/").some((part) => part === ".." || part === "." || part === ""), {
        error: 'expected a relative folder under the home such as "shared/data" (no "..", no leading "/")',
      })
      .optional(),
  }),
]);

export const sandboxProfileSchema = z.strictObject({
  description: z.string().optional(),
  /** local (processes on this machine) or kubernetes (a pod on `cluster`). */
  backend: z.enum(["local", "kubernetes"], { error: 'expected "local" or "kubernetes"' }).optional(),
  /** The container image (kubernetes). */
  image: z.string().min(1).optional(),
  cpu: cpuField.optional(),
  memory: memoryField.optional(),
  gpu: z.number().int({ error: "gpu is a whole number of GPUs" }).min(0).max(16).optional(),
  cluster: z.string().optional(),
  namespace: z.string().optional(),
  /** Stopped after this long without the owner's traffic or kernel activity. */
  idle_timeout: durationField.optional(),
  volumes: z.array(volumeMount).optional(),
});

const quota = z.strictObject({
  sandboxes: z.number().int().min(0, { error: "sandboxes is a whole number ≥ 0" }).optional(),
  gpus: z.number().int().min(0, { error: "gpus is a whole number ≥ 0" }).optional(),
});

export const sandboxesSchema = z.strictObject({
  /** Where each sandbox is served: {id} is replaced by the sandbox's id, {port} by the server's port. */
  origin: z
    .string()
    .refine((o) => /^https?:\/\/[^/]*\{id\}[^/]*$/.test(o), { error: 'expected an origin with {id} in the host, such as "https://{id}.sbx.example.com" or "http://{id}.localhost:{port}"' })
    .optional(),
  /** The profile of sandboxes created without one. */
  default_profile: z.string().optional(),
  profiles: z.record(z.string().regex(profileName, { error: "profile names use lowercase letters, digits and '-'" }), sandboxProfileSchema).optional(),
  /** Quotas per team; `default` applies to teams not named. */
  quotas: z.record(z.string(), quota).optional(),
  /** Local backend: the JupyterLab command's Python (default: the project's venv). */
  python: z.string().optional(),
  /** Kubernetes backend: the home volume claims and who may reach sandbox pods. */
  kubernetes: z
    .strictObject({
      /** Storage class of home PVCs (ReadWriteOnce); default: the cluster's default class. */
      home_storage_class: z.string().min(1).optional(),
      /** Size of a home PVC, a Kubernetes quantity (default 10Gi). */
      home_size: z.string().regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/, { error: 'expected a size such as "10Gi"' }).optional(),
      /** Labels of Capstan's pods: the only pods the NetworkPolicy admits (default app.kubernetes.io/name: capstan). */
      capstan_pod_labels: z.record(z.string(), z.string()).optional(),
      /** Labels of Capstan's namespace when it is not the sandbox's own. */
      capstan_namespace_labels: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});

export type SandboxesConfigFile = z.output<typeof sandboxesSchema>;
export type SandboxProfileFile = z.output<typeof sandboxProfileSchema>;
