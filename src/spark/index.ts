/**
 * Spark jobs as tasks (`spark:`, docs/spark.md): the spark-submit command line, the venv's Spark,
 * and what is read from a driver's log (its failure line, the UI's URL).
 */
export { driverFailureLine, readSparkUiUrl, sparkUiUrl, withDriverFailure } from "./driver-log.js";
export { findSparkInstall, noSparkMessage, type SparkInstall } from "./spark-home.js";
export { isLocalMaster, resolveSparkMaster, sparkEnv, sparkSubmitArgv, type SparkSubmitOptions } from "./spark-submit.js";
export { killYarnApplication, readYarnApplicationId, readYarnTarget, writeYarnTarget, yarnApplicationId, yarnApplicationUrl, yarnAttemptTag, yarnTrackingUrl, yarnTargetPath, type YarnKillResult, type YarnTarget } from "./yarn-application.js";
export { driverPodTemplate, reservedK8sConf, SPARK_ATTEMPT_LABEL, sparkK8sSubmit, submitEnvironment, type SparkK8sSubmitOptions } from "./k8s-submit.js";
