/**
 * Team secrets: named sets of key/value pairs, encrypted at rest (AES-256-GCM), handed to tasks as
 * environment variables (`secrets:` in a task) and never returned by listings. `mask` and `redact`
 * hide their values in what people are shown (task logs, notebooks, outputs, failure reasons, the
 * platform's own log): see secret-mask.ts.
 */
import { CapstanError } from "../errors/index.js";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Store } from "../store/index.js";
import { SecretMask } from "./secret-mask.js";

/** A reference from a task to one key of a secret. */
export interface SecretRef {
  secret: string;
  key: string;
}

/** A secret or key that does not exist, or data that cannot be decrypted. */
export class SecretError extends CapstanError {
  override readonly name = "SecretError";
  constructor(message: string, options?: ErrorOptions) {
    super("invalid", "invalid_secret", message, options);
  }
}

export interface SecretSummary {
  team: string;
  name: string;
  keys: string[];
  updatedAt: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const KEY = /^[A-Za-z0-9_.-]{1,128}$/;
/** How old the values behind redactNow may get before they are read again. */
const CACHE_MS = 5000;

export class SecretService {
  #values: Set<string> | undefined;
  #fingerprint = "";
  #mask: SecretMask | undefined;
  #checking: Promise<SecretMask> | undefined;
  /** Values this process handed to tasks: masked even before the listing is read again. */
  readonly #resolved = new Set<string>();
  #loadedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  #encrypt(data: Record<string, string>): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(data), "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
  }

  #decrypt(team: string, name: string, text: string): Record<string, string> {
    const raw = Buffer.from(text, "base64");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
      return JSON.parse(plain) as Record<string, string>;
    } catch (error) {
      throw new SecretError(`secret ${name} of team ${team} cannot be decrypted: the secret key (CAPSTAN_SECRET_KEY or the home's secret.key) is not the one it was written with`, { cause: error });
    }
  }

  /** Names and keys of the secrets (values never leave this class except to tasks). */
  async list(team?: string): Promise<SecretSummary[]> {
    return (await this.store.secrets.list(team)).map((s) => ({ team: s.team, name: s.name, keys: s.keys, updatedAt: s.updatedAt }));
  }

  /** Creates or replaces a secret. */
  async set(team: string, name: string, data: Record<string, string>): Promise<void> {
    if (!NAME.test(name)) throw new SecretError(`secret name ${JSON.stringify(name)}: letters, digits, '_', '-', '.', at most 63 characters`);
    const keys = Object.keys(data);
    if (keys.length === 0) throw new SecretError(`secret ${name} needs at least one KEY=VALUE`);
    for (const key of keys) if (!KEY.test(key)) throw new SecretError(`secret ${name}: key ${JSON.stringify(key)} may contain letters, digits, '_', '-', '.'`);
    await this.store.secrets.upsert(team, name, this.#encrypt(data), keys, this.now());
    await this.#reload();
  }

  async delete(team: string, name: string): Promise<boolean> {
    const deleted = await this.store.secrets.delete(team, name);
    await this.#reload();
    return deleted;
  }

  /** The environment values for a task's `secrets:` of a pipeline of `team`. */
  async resolve(team: string, refs: Record<string, SecretRef>): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    const cache = new Map<string, Record<string, string>>();
    for (const [variable, ref] of Object.entries(refs)) {
      let data = cache.get(ref.secret);
      if (!data) {
        const stored = await this.store.secrets.get(team, ref.secret);
        if (!stored) {
          const known = (await this.store.secrets.list(team)).map((s) => s.name);
          throw new SecretError(`${variable}: team ${team} has no secret ${JSON.stringify(ref.secret)}; its secrets: ${known.join(", ") || "none"} (create it with \`capstan secrets set ${ref.secret} ${ref.key}=… --team ${team}\`)`);
        }
        data = this.#decrypt(team, ref.secret, stored.ciphertext);
        cache.set(ref.secret, data);
      }
      const value = data[ref.key];
      if (value === undefined) throw new SecretError(`${variable}: secret ${ref.secret} of team ${team} has no key ${JSON.stringify(ref.key)}; its keys: ${Object.keys(data).join(", ")}`);
      env[variable] = value;
      if (!this.#resolved.has(value)) {
        this.#resolved.add(value);
        this.#mask = undefined;
      }
    }
    return env;
  }

  /**
   * The mask of every team's secret values as stored now (and of every value handed to a task by
   * this process): masking more than the reader's team is safe, showing a value is not. The
   * listing is checked on each call and decrypted again only when it changed.
   */
  async mask(): Promise<SecretMask> {
    this.#checking ??= this.#refresh().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  /** Reads the listing again after a change (a check already under way may predate it). */
  async #reload(): Promise<void> {
    await this.#checking?.catch(() => undefined);
    await this.mask();
  }

  async #refresh(): Promise<SecretMask> {
    const stored = await this.store.secrets.list();
    const fingerprint = JSON.stringify(stored.map((s) => [s.team, s.name, s.updatedAt, s.ciphertext.length]));
    if (fingerprint !== this.#fingerprint || !this.#values) {
      const values = new Set<string>();
      for (const secret of stored) for (const value of Object.values(this.#decrypt(secret.team, secret.name, secret.ciphertext))) values.add(value);
      this.#values = values;
      this.#fingerprint = fingerprint;
      this.#mask = undefined;
    }
    this.#loadedAt = this.now();
    return this.#currentMask();
  }

  #currentMask(): SecretMask {
    this.#mask ??= SecretMask.of([...(this.#values ?? []), ...this.#resolved]);
    return this.#mask;
  }

  /** Masks every secret value in `text` (in each of its forms, see maskedForms) with ***. */
  async redact(text: string): Promise<string> {
    if (text === "") return text;
    return (await this.mask()).maskText(text);
  }

  /**
   * Masks `text` at once with the values known now (for the platform's own log, which cannot wait);
   * when they were last read more than a few seconds ago they are read again for the next lines.
   */
  redactNow(text: string): string {
    if (this.now() - this.#loadedAt > CACHE_MS) void this.mask().catch(() => undefined);
    return this.#currentMask().maskText(text);
  }
}
