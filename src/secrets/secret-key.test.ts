/**
 * The secret key's paths: CAPSTAN_SECRET_KEY validation, the key file created once with mode 0600,
 * the error for data written with another key, and that the database holds only ciphertext.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { Store } from "../store/index.js";
import { createTestDatabase } from "../../test/support/postgres.js";
import { loadSecretKey, SecretError, SecretKeyError, SecretService } from "./index.js";

const home = () => mkdtempSync(join(tmpdir(), "capstan-key-"));
const opened: Store[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function sqliteStore(dir: string): Promise<Store> {
  const store = await Store.open({ url: join(dir, "capstan.db") });
  opened.push(store);
  return store;
}

describe("CAPSTAN_SECRET_KEY", () => {
  it("is used as given when it is 32 bytes in base64, and no key file is written", () => {
    const dir = home();
    const key = randomBytes(32);
    expect(loadSecretKey(dir, { CAPSTAN_SECRET_KEY: key.toString("base64") }).equals(key)).toBe(true);
    expect(loadSecretKey(dir, { CAPSTAN_SECRET_KEY: ` ${key.toString("base64").replace(/=$/, "")}\n` }).equals(key)).toBe(true);
    expect(existsSync(join(dir, "secret.key"))).toBe(false);
  });

  it.each([
    ["16 bytes", randomBytes(16).toString("base64")],
    ["48 bytes", randomBytes(48).toString("base64")],
    ["hex instead of base64", randomBytes(32).toString("hex")],
    ["empty", ""],
    ["a character outside base64", `${randomBytes(32).toString("base64").slice(0, 20)}!${randomBytes(32).toString("base64").slice(21)}`],
    ["text after the key", `${randomBytes(32).toString("base64")} extra`],
  ])("refuses a key of %s, naming the variable and what it takes", (_what, value) => {
    const dir = home();
    const load = () => loadSecretKey(dir, { CAPSTAN_SECRET_KEY: value });
    expect(load).toThrow(SecretKeyError);
    expect(load).toThrow(/CAPSTAN_SECRET_KEY must be 32 bytes in base64 .*openssl rand -base64 32/);
    expect(existsSync(join(dir, "secret.key"))).toBe(false);
  });
});

describe("the key file", () => {
  it("is created once under the home with mode 0600 and read back on the next start", () => {
    const dir = join(home(), "nested", "home");
    // With no umask the mode comes only from the code that creates the file.
    const umask = process.umask(0);
    let first: Buffer;
    try {
      first = loadSecretKey(dir, {});
    } finally {
      process.umask(umask);
    }
    const file = join(dir, "secret.key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first).toHaveLength(32);
    expect(readFileSync(file, "utf8")).toBe(`${first.toString("base64")}\n`);
    expect(loadSecretKey(dir, {}).equals(first)).toBe(true);
  });

  it("refuses a damaged key file, naming it, instead of replacing it", () => {
    const dir = home();
    const file = join(dir, "secret.key");
    writeFileSync(file, "not a key\n", { mode: 0o600 });
    expect(() => loadSecretKey(dir, {})).toThrow(SecretKeyError);
    expect(() => loadSecretKey(dir, {})).toThrow(`${file} does not hold a 32-byte base64 key`);
    expect(readFileSync(file, "utf8")).toBe("not a key\n");
  });
});

describe("secrets at rest", () => {
  it("read with another key give an error that names the secret and the key, not garbage", async () => {
    const store = await sqliteStore(home());
    await new SecretService(store, randomBytes(32)).set("ml", "db", { PASSWORD: "hunter2-long" });
    const other = new SecretService(store, randomBytes(32));
    const resolve = other.resolve("ml", { DB_PASSWORD: { secret: "db", key: "PASSWORD" } });
    await expect(resolve).rejects.toThrow(SecretError);
    await expect(other.resolve("ml", { DB_PASSWORD: { secret: "db", key: "PASSWORD" } })).rejects.toThrow(
      "secret db of team ml cannot be decrypted: the secret key (CAPSTAN_SECRET_KEY or the home's secret.key) is not the one it was written with",
    );
    await expect(other.redact("hunter2-long")).rejects.toThrow(/cannot be decrypted/);
  });

  it("are only ciphertext in SQLite: the database files never hold a value's bytes", async () => {
    const dir = home();
    mkdirSync(dir, { recursive: true });
    const store = await sqliteStore(dir);
    const values = { PASSWORD: `pw-${randomBytes(12).toString("hex")}`, TOKEN: `tok-${randomBytes(12).toString("hex")}` };
    const secrets = new SecretService(store, randomBytes(32));
    await secrets.set("ml", "db", values);
    expect(await secrets.resolve("ml", { A: { secret: "db", key: "PASSWORD" }, B: { secret: "db", key: "TOKEN" } })).toEqual({ A: values.PASSWORD, B: values.TOKEN });

    const row = await store.db.selectFrom("secrets").selectAll().where("name", "=", "db").executeTakeFirstOrThrow();
    for (const value of Object.values(values)) {
      expect(JSON.stringify(row)).not.toContain(value);
      expect(Buffer.from(row.ciphertext, "base64").includes(value)).toBe(false);
    }
    expect(JSON.parse(row.keys)).toEqual(["PASSWORD", "TOKEN"]);
    await store.close();
    opened.splice(opened.indexOf(store), 1);
    const files = readdirSync(dir).filter((f) => f.startsWith("capstan.db"));
    expect(files).toContain("capstan.db");
    for (const file of files) {
      const bytes = readFileSync(join(dir, file));
      for (const value of Object.values(values)) expect(bytes.includes(value), `${file} holds a secret value`).toBe(false);
    }
  });

  it("are only ciphertext in PostgreSQL: the secrets table, read directly, never holds a value", async () => {
    const url = await createTestDatabase();
    const store = await Store.open({ url, poolSize: 2 });
    opened.push(store);
    const value = `pg-${randomBytes(12).toString("hex")}`;
    const secrets = new SecretService(store, randomBytes(32));
    await secrets.set("ml", "db", { PASSWORD: value });
    expect(await secrets.resolve("ml", { A: { secret: "db", key: "PASSWORD" } })).toEqual({ A: value });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<Record<string, unknown>>("select * from secrets");
      expect(rows).toHaveLength(1);
      const text = JSON.stringify(rows);
      expect(text).not.toContain(value);
      expect(Buffer.from(String(rows[0]?.ciphertext), "base64").includes(value)).toBe(false);
    } finally {
      await client.end();
    }
  });
});
