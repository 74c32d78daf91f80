/**
 * The key that encrypts team secrets at rest: CAPSTAN_SECRET_KEY (32 bytes, base64) when set — every
 * replica of a cluster install needs the same one — else a key file created once under the home.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The key is missing or malformed. */
export class SecretKeyError extends Error {
  override readonly name = "SecretKeyError";
}

export function loadSecretKey(home: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.CAPSTAN_SECRET_KEY;
  if (fromEnv !== undefined) {
    const key = Buffer.from(fromEnv, "base64");
    if (key.length !== 32) throw new SecretKeyError("CAPSTAN_SECRET_KEY must be 32 bytes in base64 (e.g. the output of `openssl rand -base64 32`)");
    return key;
  }
  const file = join(home, "secret.key");
  try {
    const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (key.length !== 32) throw new SecretKeyError(`${file} does not hold a 32-byte base64 key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  return key;
}
