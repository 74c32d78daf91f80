/**
 * The kinds of connection and what each holds: the settings (endpoints, user names, flags; shown to
 * the team's readers) and the credential fields, which are only ever references into the team's
 * secrets ("secret-name/key"). One zod schema per kind checks a connection before it is stored.
 */
import { z } from "zod";

export const CONNECTION_KINDS = ["kafka", "http", "s3", "webhdfs", "postgres", "spark"] as const;
export type ConnectionKind = (typeof CONNECTION_KINDS)[number];

/** Lowercase letters, digits and '-', starting with a letter: unique once turned into an environment variable name. */
export const CONNECTION_NAME = /^[a-z][a-z0-9-]{0,62}$/;
export const CONNECTION_NAME_RULE = "lowercase letters, digits and '-', starting with a letter, at most 63 characters";

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/, { message: "write host:port, e.g. kafka-1.example.com:9092" })
  .refine((v) => Number(v.split(":")[1]) <= 65535, { message: "the port is at most 65535" });
const httpUrl = z.url({ protocol: /^https?$/, error: "an http:// or https:// URL" });
const hostname = z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, { message: "a host name or address (letters, digits, '.', '-')" });
/** No control characters (NUL, newlines, tabs): these values reach connection strings, headers and environment variables. */
const printable = (value: string): boolean => ![...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
const PRINTABLE_RULE = "printable characters only (no NUL, newline or other control character)";
const userName = z.string().min(1).max(256).refine(printable, { message: PRINTABLE_RULE });

/** Settings of each kind (not secret). */
export const CONNECTION_SETTINGS = {
  kafka: z.strictObject({
    bootstrap_servers: z.array(hostPort).min(1, { message: "name at least one bootstrap server" }).max(32),
    sasl_mechanism: z.enum(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]).optional(),
    sasl_username: userName.optional(),
    tls: z.boolean().optional(),
  }),
  http: z.strictObject({ url: httpUrl }),
  s3: z.strictObject({
    endpoint: httpUrl.optional(),
    region: z.string().regex(/^[a-z0-9-]{1,64}$/, { message: "a region name such as us-east-1" }).default("us-east-1"),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "an S3 bucket name" }).optional(),
    force_path_style: z.boolean().optional(),
  }),
  webhdfs: z.strictObject({
    url: httpUrl,
    user: userName.optional(),
    /** fs.defaultFS of the generated HADOOP_CONF_DIR (hdfs://namenode:8020); absent: webhdfs:// of `url`. */
    default_fs: z.string().regex(/^(hdfs|webhdfs|swebhdfs|viewfs):\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?\/?$/, { message: "hdfs://namenode:8020 (or webhdfs://, swebhdfs://, viewfs://)" }).optional(),
    /** host:port of the YARN ResourceManager, written to yarn-site.xml. */
    resource_manager: hostPort.optional(),
    /** http(s)://host:port of the ResourceManager's web app: its REST API kills a spark task's application. */
    resource_manager_url: httpUrl.optional(),
  }),
  postgres: z.strictObject({
    host: hostname,
    port: z.number().int().min(1).max(65535).default(5432),
    database: z.string().min(1).max(63).refine(printable, { message: PRINTABLE_RULE }),
    user: userName,
    sslmode: z.enum(["disable", "require"]).optional(),
  }),
  spark: z.strictObject({
    master: z.string().regex(/^(spark:\/\/[A-Za-z0-9.-]+:[0-9]{1,5}|k8s:\/\/https?:\/\/[A-Za-z0-9.:/-]+|yarn|local(\[[0-9*]+\])?)$/, {
      message: "spark://host:port, k8s://https://api-server, yarn or local[N]",
    }),
  }),
} satisfies Record<ConnectionKind, z.ZodType>;

/** The credential fields of each kind, each optional: the value comes from a team secret. */
export const CONNECTION_SECRET_FIELDS: Record<ConnectionKind, readonly string[]> = {
  kafka: ["sasl_password"],
  http: ["bearer_token"],
  s3: ["access_key_id", "secret_access_key"],
  webhdfs: ["delegation_token"],
  postgres: ["password"],
  spark: [],
};

export type ConnectionSettings = Record<string, string | number | boolean | string[]>;

/** A parsed secret reference. */
export interface ConnectionSecretRef {
  secret: string;
  key: string;
}

/** "secret-name/key" → its parts, or undefined when it is not one. */
export function parseSecretRef(text: string): ConnectionSecretRef | undefined {
  const slash = text.indexOf("/");
  if (slash <= 0 || slash === text.length - 1 || text.indexOf("/", slash + 1) !== -1) return undefined;
  return { secret: text.slice(0, slash), key: text.slice(slash + 1) };
}

/**
 * The environment variable of one field of a connection given to a task:
 * CAPSTAN_CONN_<NAME>_<FIELD>, uppercased, '-' written as '_'. Two connections of one task can
 * still meet on one name (kafka `x` + sasl_password and postgres `x-sasl` + password): the task's
 * environment refuses that (ConnectionService.taskEnvironment).
 */
export function connectionVariable(name: string, field: string): string {
  return `CAPSTAN_CONN_${name.replaceAll("-", "_").toUpperCase()}_${field.toUpperCase()}`;
}
