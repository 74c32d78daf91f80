/**
 * Chooses what the log endpoint of a pod returns in the test control plane. kwok serves
 * `GET /api/v1/namespaces/NS/pods/POD/log` from a file in the CRI log format; this writes that
 * file under the environment's logs folder and creates kwok's `Logs` object naming it. Pods
 * without one get the environment's default log file.
 */
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/** kwok's API group and version of the `Logs` kind. */
export const KWOK_LOGS = { group: "kwok.x-k8s.io", version: "v1alpha1", plural: "logs" } as const;

/** What {@link setPodLog} needs from an environment. */
export interface PodLogTarget {
  kubeconfigPath: string;
  /** Folder for log files, readable by the kwok process. */
  logsDir: string;
}

/** Options of {@link setPodLog}. */
export interface SetPodLogOptions {
  namespace: string;
  pod: string;
  /** The text the log endpoint returns; every line comes back ending with "\n". */
  text: string;
  /** Only this container (default: every container of the pod). */
  container?: string;
}

/** Converts plain text to CRI log lines ("<RFC3339Nano time> stdout F <line>"). */
export function toCriLog(text: string, now = new Date()): string {
  if (text === "") return "";
  const stamp = now.toISOString().replace(/Z$/, "000000Z"); // milliseconds → nanoseconds
  const lines = (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
  return lines.map((line) => `${stamp} stdout F ${line}\n`).join("");
}

/** Writes `text` as the pod's log and points kwok at it (replacing an earlier choice). */
export async function setPodLog(target: PodLogTarget, options: SetPodLogOptions): Promise<string> {
  const file = join(
    target.logsDir,
    `${options.namespace}_${options.pod}${options.container === undefined ? "" : `_${options.container}`}.log`,
  );
  await writeFile(file, toCriLog(options.text));
  const config = new KubeConfig();
  config.loadFromFile(target.kubeconfigPath);
  const api = config.makeApiClient(CustomObjectsApi);
  const request = { ...KWOK_LOGS, namespace: options.namespace };
  try {
    await api.deleteNamespacedCustomObject({ ...request, name: options.pod });
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
  }
  await api.createNamespacedCustomObject({
    ...request,
    body: {
      apiVersion: `${KWOK_LOGS.group}/${KWOK_LOGS.version}`,
      kind: "Logs",
      metadata: { name: options.pod, namespace: options.namespace },
      spec: {
        logs: [
          {
            ...(options.container === undefined ? {} : { containers: [options.container] }),
            logsFile: file,
            follow: true,
          },
        ],
      },
    },
  });
  return file;
}
