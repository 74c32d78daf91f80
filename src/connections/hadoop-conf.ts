/**
 * The Hadoop client configuration a task gets from its `webhdfs` connections: a HADOOP_CONF_DIR
 * written into the attempt's folder (mode 0700, files 0600) with core-site.xml (fs.defaultFS: the
 * connection's `default_fs`, else webhdfs://NAMENODE-HTTP-ADDRESS), hdfs-site.xml (the namenode's
 * HTTP address, WebHDFS on) and, when the connection names a `resource_manager`, yarn-site.xml.
 * With several webhdfs connections the first one listed is fs.defaultFS; the others are reachable
 * by their full URIs. The user name reaches Hadoop clients as HADOOP_USER_NAME.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ConnectionSettings } from "./connection-kinds.js";

/** The folder under an attempt's folder that holds the generated configuration. */
export const HADOOP_CONF_FOLDER = "hadoop-conf";

/** What the configuration files say, from one webhdfs connection. */
export interface HadoopClientConf {
  /** The connection it came from. */
  connection: string;
  defaultFs: string;
  /** host:port of the namenode's HTTP server. */
  namenodeHttpAddress: string;
  /** host:port of the YARN ResourceManager, when the connection names one. */
  resourceManager?: string;
  /** http(s)://host:port of the ResourceManager's web app (REST API), when the connection names one. */
  resourceManagerUrl?: string;
  user?: string;
}

/** The client configuration of one webhdfs connection's settings. */
export function hadoopClientConf(connection: string, settings: ConnectionSettings): HadoopClientConf {
  const url = new URL(String(settings.url));
  const port = url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80";
  const namenodeHttpAddress = `${url.hostname}:${port}`;
  const scheme = url.protocol === "https:" ? "swebhdfs" : "webhdfs";
  return {
    connection,
    defaultFs: typeof settings.default_fs === "string" ? settings.default_fs : `${scheme}://${namenodeHttpAddress}`,
    namenodeHttpAddress,
    ...(typeof settings.resource_manager === "string" ? { resourceManager: settings.resource_manager } : {}),
    ...(typeof settings.resource_manager_url === "string" ? { resourceManagerUrl: settings.resource_manager_url } : {}),
    ...(typeof settings.user === "string" ? { user: settings.user } : {}),
  };
}

/** Writes the configuration of `conf` (the task's first webhdfs connection) into `dir`, made 0700. */
export function writeHadoopConfDir(dir: string, conf: HadoopClientConf): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const write = (name: string, properties: Record<string, string>): void => {
    const path = join(dir, name);
    writeFileSync(path, siteXml(conf.connection, properties), { mode: 0o600 });
    chmodSync(path, 0o600);
  };
  write("core-site.xml", { "fs.defaultFS": conf.defaultFs });
  write("hdfs-site.xml", { "dfs.namenode.http-address": conf.namenodeHttpAddress, "dfs.webhdfs.enabled": "true" });
  if (conf.resourceManager !== undefined) {
    const host = conf.resourceManager.slice(0, conf.resourceManager.lastIndexOf(":"));
    write("yarn-site.xml", { "yarn.resourcemanager.address": conf.resourceManager, "yarn.resourcemanager.hostname": host });
  }
}

/** A Hadoop *-site.xml document of `properties`, values escaped. */
export function siteXml(connection: string, properties: Record<string, string>): string {
  const lines = Object.entries(properties).map(([name, value]) => `  <property><name>${escapeXml(name)}</name><value>${escapeXml(value)}</value></property>`);
  return `<?xml version="1.0"?>\n<!-- Written by Capstan from connection ${escapeXml(connection)} for one attempt. -->\n<configuration>\n${lines.join("\n")}\n</configuration>\n`;
}

function escapeXml(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&apos;").replaceAll("--", "&#45;&#45;");
}
