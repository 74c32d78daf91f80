/**
 * The `volumes:` section of capstan.yaml: team volumes by name. Each is owned by one team and is a
 * `local` folder, a `pvc` (on Kubernetes a claim the Helm chart mounts into the Capstan pod at
 * `path`; on one machine any mounted path), or an `s3` bucket prefix whose keys come from a team
 * secret or from environment variables of the Capstan process, or a `webhdfs` folder of an HDFS
 * cluster (simple auth or a delegation token from a team secret).
 */
import { z } from "zod";

/** A volume name: lowercase letters, digits and '-', starting with a letter (it appears in URLs and as VOLUME:PATH). */
export const volumeNamePattern = /^[a-z][a-z0-9-]{0,62}$/;
const teamName = z.string().min(1, { error: "team names the team that owns the volume" });

const common = {
  team: teamName,
  description: z.string().optional(),
  /** Nobody writes through Capstan, whatever their role (run artifacts, published results). */
  read_only: z.boolean().optional(),
};

const folderPath = z.string().min(1, { error: "path is the volume's folder, such as /srv/team-data" });

const s3Credentials = z.union([
  z.strictObject({
    /** A secret of the owning team with the keys access_key_id and secret_access_key. */
    secret: z.string().min(1),
  }),
  z.strictObject({
    /** Names of environment variables of the Capstan process that hold the keys. */
    access_key_id_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name" }),
    secret_access_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name" }),
  }),
]);

export const volumeSchema = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({ kind: z.literal("local"), path: folderPath, ...common }),
    z.strictObject({ kind: z.literal("pvc"), path: folderPath, claim: z.string().optional(), ...common }),
    z.strictObject({
      kind: z.literal("s3"),
      /** The store's URL; absent: AWS's endpoint for the region. */
      endpoint: z.url({ protocol: /^https?$/, error: "expected an http(s) URL such as https://s3.example.com" }).optional(),
      region: z.string().min(1).optional(),
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "expected an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')" }),
      prefix: z.string().optional(),
      /** Address the bucket in the path rather than the host name (most self-hosted stores). */
      path_style: z.boolean().optional(),
      /** Absent: the SDK's default chain (AWS_ACCESS_KEY_ID, instance roles). */
      credentials: s3Credentials.optional(),
      ...common,
    }),
    z.strictObject({
      kind: z.literal("webhdfs"),
      /** The namenode's HTTP(S) address, such as http://namenode:9870. */
      url: z.url({ protocol: /^https?$/, error: "expected the namenode's http(s) address such as http://namenode:9870" }),
      /** The volume's folder in HDFS (absolute; default "/"). */
      path: z.string().startsWith("/", { error: "path is an absolute HDFS folder such as /data/team-a" }).optional(),
      /** user.name of simple authentication (absent with a delegation token). */
      user: z.string().min(1).optional(),
      /** A secret of the owning team with the key delegation_token. */
      credentials: z.strictObject({ secret: z.string().min(1) }).optional(),
      /** Hosts besides the namenode's that its redirects may send data to (exact names or "*.suffix"). */
      datanode_hosts: z.array(z.string().regex(/^(\*\.)?[A-Za-z0-9.-]+$/, { error: "a host name, or *.domain for every host under it" })).optional(),
      ...common,
    }),
  ],
  { error: 'kind must be "local", "pvc", "s3" or "webhdfs"' },
);

export const volumesSchema = z.record(
  z.string().regex(volumeNamePattern, { error: "a volume name uses lowercase letters, digits and '-', starting with a letter" }),
  volumeSchema,
);

export type VolumeConfigFile = z.output<typeof volumeSchema>;
export type VolumesConfigFile = z.output<typeof volumesSchema>;
