/** Errors of the Kubernetes layer: bad cluster settings, unusable clusters, bad pod options. */

/** A `clusters:` entry of capstan.yaml is not valid; the message has file:line:col and the field. */
export class ClusterConfigError extends Error {
  override readonly name = "ClusterConfigError";
  readonly exitCode = 2;
  /** Each problem as `file:line:col: clusters.NAME.FIELD: what is wrong`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(problems.join("\n"), options);
    this.problems = problems;
  }
}

/** A configured cluster cannot be used: its kubeconfig is unreadable, its context is missing, …. */
export class ClusterUnavailableError extends Error {
  override readonly name = "ClusterUnavailableError";
  readonly cluster: string;

  constructor(cluster: string, message: string, options?: { cause?: unknown }) {
    super(`cluster ${cluster}: ${message}`, options);
    this.cluster = cluster;
  }
}

/** A pod cannot be built from a task (bad options, unreadable pod template, invalid image name). */
export class PodBuildError extends Error {
  override readonly name = "PodBuildError";
  /** The task field at fault, e.g. ["kubernetes", "volumes", 0, "mount"]. */
  readonly field: readonly (string | number)[];

  constructor(message: string, field: readonly (string | number)[], options?: { cause?: unknown }) {
    super(message, options);
    this.field = field;
  }
}
