/** Errors of the test Kubernetes control plane: which component failed, where its log is, why. */

/** A component of the test control plane (or its build) failed; `logFile` holds its output. */
export class KubeTestenvError extends Error {
  override readonly name = "KubeTestenvError";
  /** The failing part: "build", "etcd", "kube-apiserver", "kube-scheduler", "kwok", "setup". */
  readonly component: string;
  /** The component's log file, when it has one. */
  readonly logFile: string | undefined;

  constructor(component: string, message: string, options?: { logFile?: string; cause?: unknown }) {
    super(`kube-testenv ${component}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.component = component;
    this.logFile = options?.logFile;
  }
}
