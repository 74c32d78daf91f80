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

/** 32 bytes from base64 text (padding and surrounding whitespace optional), or undefined for anything else. */
function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  // Buffer.from(…, "base64") skips characters it does not know and stops at padding, so text after a
  // key or a stray character would otherwise pass unnoticed.
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, "base64");
  return key.length === 32 ? key : undefined;
}

export function loadSecretKey(home: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.CAPSTAN_SECRET_KEY;
  if (fromEnv !== undefined) {
    const key = decodeKey(fromEnv);
    if (!key) throw new SecretKeyError("CAPSTAN_SECRET_KEY must be 32 bytes in base64 (e.g. the output of `openssl rand -base64 32`)");
    return key;
  }
  const file = join(home, "secret.key");
  try {
    const key = decodeKey(readFileSync(file, "utf8"));
    if (!key) throw new SecretKeyError(`${file} does not hold a 32-byte base64 key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  return key;
}
