/**
 * Where the venv's Spark is: pyspark ships Spark itself (SPARK_HOME is the package's folder, with
 * bin/spark-submit in it), so a `spark:` task with a local master runs the spark-submit of the
 * interpreter Capstan runs python tasks with, found without starting that interpreter.
 */
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface SparkInstall {
  /** The pyspark package folder, which is SPARK_HOME. */
  sparkHome: string;
  /** `<sparkHome>/bin/spark-submit`. */
  sparkSubmit: string;
}

const found = new Map<string, SparkInstall>();

/**
 * The Spark of the venv `python` belongs to (`<venv>/bin/python` → `<venv>/lib/python3.*\/site-packages/pyspark`),
 * or null when pyspark is not installed there (`scripts/setup.sh --spark` installs it). Remembered per interpreter once found.
 */
export function findSparkInstall(python: string): SparkInstall | null {
  const known = found.get(python);
  if (known !== undefined) return known;
  const install = lookUp(python);
  // Not found is not remembered: pyspark installed while the platform runs is found at the next launch.
  if (install !== null) found.set(python, install);
  return install;
}

function lookUp(python: string): SparkInstall | null {
  if (!python.includes("/")) return null;
  // A venv's bin/python is a link to the base interpreter: the venv is the folder above the link itself.
  const candidates = [dirname(dirname(python))];
  try {
    candidates.push(dirname(dirname(realpathSync(python))));
  } catch {
    // a missing interpreter has no Spark either
  }
  for (const prefix of candidates) {
    const lib = join(prefix, "lib");
    let versions: string[];
    try {
      versions = readdirSync(lib).filter((name) => /^python3\.\d+$/.test(name));
    } catch {
      continue;
    }
    for (const version of versions) {
      const sparkHome = join(lib, version, "site-packages", "pyspark");
      const sparkSubmit = join(sparkHome, "bin", "spark-submit");
      if (existsSync(sparkSubmit)) return { sparkHome, sparkSubmit };
    }
  }
  return null;
}

/** What the task is told when the venv has no pyspark. */
export function noSparkMessage(python: string): string {
  return `pyspark is not installed in the venv of ${python} (${basename(python)} has no pyspark/bin/spark-submit beside it); run scripts/setup.sh --spark (it needs Java 17 or newer)`;
}
