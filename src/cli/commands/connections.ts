/**
 * `capstan connections list|set|delete|test`: a team's named endpoints (Kafka, HTTP, S3, WebHDFS,
 * PostgreSQL, Spark). Credentials are references into the team's secrets (`capstan secrets set`),
 * never values; `test` reaches the endpoint with them and says what happened.
 */
import type { Command } from "commander";
import { ClientError } from "../errors.js";
import { globalOptions, withClient } from "../context.js";
import { printJson, printTable } from "../output.js";

const KINDS = "kafka, http, s3, webhdfs, postgres, spark";
/** Settings given as text on the command line that are not text in the connection. */
const LIST_SETTINGS = new Set(["bootstrap_servers"]);
const NUMBER_SETTINGS = new Set(["port"]);
const BOOLEAN_SETTINGS = new Set(["tls", "force_path_style"]);

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function pairs(texts: readonly string[], flag: string): [string, string][] {
  return texts.map((text) => {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new ClientError(`${flag} ${JSON.stringify(text)}: write FIELD=VALUE`);
    return [text.slice(0, eq), text.slice(eq + 1)];
  });
}

function settingValue(field: string, text: string): unknown {
  if (LIST_SETTINGS.has(field)) return text.split(",").map((part) => part.trim()).filter((part) => part !== "");
  if (NUMBER_SETTINGS.has(field)) {
    if (!/^[0-9]+$/.test(text)) throw new ClientError(`--setting ${field}=${text}: ${field} is a whole number`);
    return Number(text);
  }
  if (BOOLEAN_SETTINGS.has(field)) {
    if (text !== "true" && text !== "false") throw new ClientError(`--setting ${field}=${text}: ${field} is true or false`);
    return text === "true";
  }
  return text;
}

export function registerConnectionCommands(program: Command): void {
  const connections = program
    .command("connections")
    .description(`team connections (${KINDS}) for tasks (task field connections: [NAME]) and Kafka triggers; secrets shown as references only`);
  connections
    .command("list")
    .description("connections with their settings and secret references")
    .option("--team <team>", "only this team's connections")
    .action(async (opts: { team?: string }, command: Command) => {
      await withClient(command, async (client) => {
        const list = await client.listConnections(opts.team);
        if (globalOptions(command).json) printJson({ connections: list });
        else
          printTable(
            ["TEAM", "CONNECTION", "KIND", "SETTINGS", "SECRETS"],
            list.map((c) => [
              c.team,
              c.name,
              c.kind,
              Object.entries(c.settings)
                .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`)
                .join(" "),
              Object.entries(c.secrets)
                .map(([k, v]) => `${k}=${v}`)
                .join(" "),
            ]),
          );
      });
    });
  connections
    .command("set <name>")
    .description("create or replace a connection")
    .requiredOption("--kind <kind>", `one of ${KINDS}`)
    .option("--team <team>", "the team that owns it", "default")
    .option("--setting <field=value>", "a setting, repeatable (bootstrap_servers=a:9092,b:9092; url=…; host=…; port=5432; tls=true)", collect, [])
    .option("--secret <field=secret/key>", "a credential from a team secret, repeatable (sasl_password=kafka/password)", collect, [])
    .option("--description <text>", "what it is for")
    .action(async (name: string, opts: { kind: string; team: string; setting: string[]; secret: string[]; description?: string }, command: Command) => {
      const settings = Object.fromEntries(pairs(opts.setting, "--setting").map(([field, text]) => [field, settingValue(field, text)]));
      const secrets = Object.fromEntries(pairs(opts.secret, "--secret"));
      await withClient(command, async (client) => {
        const saved = await client.setConnection(opts.team, name, { kind: opts.kind, settings, secrets, ...(opts.description !== undefined ? { description: opts.description } : {}) });
        if (globalOptions(command).json) printJson(saved);
      });
    });
  connections
    .command("delete <name>")
    .description("delete a connection")
    .option("--team <team>", "the team that owns it", "default")
    .action(async (name: string, opts: { team: string }, command: Command) => {
      await withClient(command, (client) => client.deleteConnection(opts.team, name));
    });
  connections
    .command("test <name>")
    .description("reach the endpoint with the connection's credentials (Kafka metadata, HTTP GET, SELECT 1, S3 listing, WebHDFS status, Spark master TCP); exit 1 when it fails")
    .option("--team <team>", "the team that owns it", "default")
    .action(async (name: string, opts: { team: string }, command: Command) => {
      await withClient(command, async (client) => {
        const result = await client.testConnection(opts.team, name);
        if (globalOptions(command).json) printJson(result);
        else process.stdout.write(`${result.ok ? "ok" : "failed"}: ${result.message} (${result.elapsed_ms} ms)\n`);
        if (!result.ok) process.exitCode = 1;
      });
    });
}
