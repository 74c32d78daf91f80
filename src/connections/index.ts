/** Team connections: named endpoints of Kafka, HTTP, S3, WebHDFS, PostgreSQL and Spark with credentials from team secrets. */
export {
  CONNECTION_KINDS,
  CONNECTION_NAME,
  CONNECTION_NAME_RULE,
  CONNECTION_SECRET_FIELDS,
  CONNECTION_SETTINGS,
  connectionVariable,
  parseSecretRef,
  type ConnectionKind,
  type ConnectionSettings,
} from "./connection-kinds.js";
export {
  ConnectionError,
  ConnectionNotFoundError,
  ConnectionService,
  taskSecretResolver,
  type ConnectionRecord,
  type ConnectionSpec,
  type ResolvedConnection,
  type TaskConnectionEnvironment,
} from "./connection-service.js";
export { HADOOP_CONF_FOLDER, hadoopClientConf, siteXml, writeHadoopConfDir, type HadoopClientConf } from "./hadoop-conf.js";
export { checkConnection, type ConnectionCheck } from "./connection-check.js";
