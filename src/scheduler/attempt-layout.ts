/**
 * Where an attempt's files live under the home: its own folder
 * (`attempts/RUN/TASK/TRY/`, with output.json), its log (`logs/RUN/TASK/TRY.log`), and the run's
 * shared artifacts folder (`artifacts/RUN/`).
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";

/** The folder and log of one attempt, recorded with it before it is launched. */
export function plannedAttemptPaths(home: string, runId: string, taskId: string, tryNumber: number): { attemptDir: string; logPath: string } {
  return {
    attemptDir: join(home, "attempts", runId, taskId, String(tryNumber)),
    logPath: join(home, "logs", runId, taskId, `${tryNumber}.log`),
  };
}

/** The folder a run's tasks share for large artifacts. */
export function runArtifactsDir(home: string, runId: string): string {
  return join(home, "artifacts", runId);
}

/** Where an attempt writes its JSON outputs. */
export function attemptOutputPath(attemptDir: string): string {
  return join(attemptDir, "output.json");
}

/** The log of an attempt recorded without a planned log path. */
export function fallbackLogPath(attemptDir: string): string {
  return join(attemptDir, "log");
}

/** Makes the attempt's folder, its log's folder and the run's artifacts folder. */
export function makeAttemptFolders(paths: { attemptDir: string; logPath: string; artifactsDir: string }): void {
  mkdirSync(paths.attemptDir, { recursive: true });
  mkdirSync(dirname(paths.logPath), { recursive: true });
  mkdirSync(paths.artifactsDir, { recursive: true });
}
