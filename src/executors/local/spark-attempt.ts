/**
 * The end of a spark-submit attempt on the local executor: a failure's reason gets the driver's
 * exception line from the log, and an attempt with master yarn that did not succeed (cancelled,
 * timed out, failed, or its spark-submit gone) has its YARN application killed through the
 * ResourceManager, so nothing of it runs on in the cluster. The kill starts as soon as the attempt
 * is killed, beside the signals to spark-submit.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AttemptEnd } from "../executor.js";
import { killYarnApplication, readYarnApplicationId, readYarnTarget, withDriverFailure, type YarnKillResult, type YarnTarget } from "../../spark/index.js";
import { SPARK_SUBMIT_FILE } from "../spark-command.js";

export interface SparkAttempt {
  /** The attempt's log (spark-submit's and, in client mode, the driver's). */
  log: string;
  /** The ResourceManager of a YARN attempt; null for other masters. */
  yarn: YarnTarget | null;
  /** The kill of its YARN application, once started. */
  yarnKill?: Promise<string | undefined>;
}

/** The spark side of an attempt found in its folder (after a restart), or null when it is no spark-submit attempt. */
export function sparkAttemptIn(attemptDir: string, logPath: string | null): SparkAttempt | null {
  if (logPath === null || !existsSync(join(attemptDir, SPARK_SUBMIT_FILE))) return null;
  return { log: logPath, yarn: readYarnTarget(attemptDir) };
}

/** Starts killing the attempt's YARN application (once); resolves to what the attempt's reason should say about it. */
export function killSparkYarnApplication(spark: SparkAttempt): Promise<string | undefined> {
  const target = spark.yarn;
  if (target === null) return Promise.resolve(undefined);
  spark.yarnKill ??= (async () => {
    const id = readYarnApplicationId(spark.log);
    // Killed before spark-submit asked YARN for an id: nothing was submitted.
    if (id === undefined) return undefined;
    try {
      const result: YarnKillResult = await killYarnApplication(target, id);
      return result.killed ? `YARN application ${id} killed` : undefined;
    } catch (error) {
      return `YARN application ${id} could not be killed: ${(error as Error).message}`;
    }
  })();
  return spark.yarnKill;
}

/** The attempt's end with the driver's exception line and what became of its YARN application. */
export async function sparkAttemptEnd(spark: SparkAttempt, end: AttemptEnd, killedFor: string | undefined): Promise<AttemptEnd> {
  const withFailure = killedFor === undefined ? withDriverFailure(end, spark.log) : end;
  if (spark.yarn === null || (end.outcome === "success" && killedFor === undefined && spark.yarnKill === undefined)) return withFailure;
  const note = await killSparkYarnApplication(spark);
  if (note === undefined) return withFailure;
  return { ...withFailure, reason: withFailure.reason === null ? note : `${withFailure.reason}; ${note}`, cleanup: note };
}
