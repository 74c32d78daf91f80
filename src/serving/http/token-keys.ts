/**
 * Token authorization as TorchServe ≥ 0.11 has it: a management key, an inference key (both expire
 * after token_expiration_min) and an API key that renews either, written to key_file.json (0600).
 * Keys are 128-bit random (TorchServe's are 48-bit) and compared in constant time. A fixed
 * inference key (inference_key_file) replaces the random one and does not expire.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { invalidKey } from "../errors.js";

/** Which API a key opens. */
export type KeyKind = "management" | "inference" | "API";

interface Key {
  value: string;
  expiresAt: number | undefined;
}

/** The server's keys and their file. */
export class TokenKeys {
  private readonly keys = new Map<KeyKind, Key>();

  constructor(
    private readonly file: string,
    private readonly expirationMin: number,
    private readonly now: () => number = Date.now,
    private readonly fixedInference?: string,
  ) {
    this.keys.set("API", { value: newKey(), expiresAt: undefined });
    this.renew("management");
    this.renew("inference");
  }

  /** Replaces a key (and its expiry) and rewrites the key file. */
  renew(kind: "management" | "inference"): void {
    if (kind === "inference" && this.fixedInference !== undefined) this.keys.set(kind, { value: this.fixedInference, expiresAt: undefined });
    else this.keys.set(kind, { value: newKey(), expiresAt: this.now() + this.expirationMin * 60_000 });
    this.write();
  }

  /** The current value of a key (for tests and the start message). */
  key(kind: KeyKind): string {
    return this.keys.get(kind)!.value;
  }

  /** Throws InvalidKeyException unless `authorization` is `Bearer <current key of kind>`. */
  check(authorization: string | undefined, kind: KeyKind): void {
    const token = /^Bearer\s+(\S+)$/.exec(authorization ?? "")?.[1];
    const key = this.keys.get(kind);
    if (!token || !key) throw invalidKey();
    const given = Buffer.from(token);
    const expected = Buffer.from(key.value);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidKey();
    if (key.expiresAt !== undefined && this.now() >= key.expiresAt) throw invalidKey();
  }

  /** Removes the key file (at shutdown, as TorchServe does). */
  remove(): void {
    rmSync(this.file, { force: true });
  }

  private write(): void {
    const entry = (kind: KeyKind) => {
      const key = this.keys.get(kind);
      return key ? { key: key.value, ...(key.expiresAt !== undefined ? { "expiration time": new Date(key.expiresAt).toISOString() } : {}) } : undefined;
    };
    const body = { management: entry("management"), inference: entry("inference"), API: entry("API") };
    writeFileSync(this.file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  }
}

function newKey(): string {
  return randomBytes(16).toString("base64url");
}
