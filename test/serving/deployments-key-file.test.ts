/**
 * The fixed inference key of a deployment's replicas: `capstan serve` reads it from config.properties'
 * inference_key_file (refusing a missing or malformed file with the key and file named), asks for it
 * on the inference API, and neither expires nor renews it; the management key stays TorchServe's.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadServeConfig } from "../../src/serving/config/index.js";
import { TokenKeys } from "../../src/serving/http/index.js";
import { tempDir } from "../support/platform-harness.js";

describe("inference_key_file", () => {
  it("sets the inference key, which does not expire or change; a missing or malformed file is refused by name", () => {
    const dir = tempDir("capstan-key-file-");
    mkdirSync(dir, { recursive: true });
    const config = (lines: string[]) => {
      writeFileSync(join(dir, "config.properties"), `${lines.join("\n")}\n`);
      return loadServeConfig({ tsConfig: "config.properties" }, "python3", dir, {});
    };
    expect(config([]).inferenceKey).toBeUndefined();
    expect(() => config(["inference_key_file=missing.key"])).toThrow("inference_key_file=missing.key in config.properties: no such file");
    writeFileSync(join(dir, "bad.key"), "short key\n");
    expect(() => config(["inference_key_file=bad.key"])).toThrow("inference_key_file=bad.key in config.properties: expected one line of 16 to 200 letters, digits, '-' or '_'");
    writeFileSync(join(dir, "good.key"), "abcdefghijklmnopqrstuvwxyz012345\n", { mode: 0o600 });
    const loaded = config(["inference_key_file=good.key"]);
    expect(loaded.inferenceKey).toBe("abcdefghijklmnopqrstuvwxyz012345");

    let now = 1_000;
    const keys = new TokenKeys(join(dir, "key_file.json"), 1, () => now, loaded.inferenceKey);
    expect(keys.key("inference")).toBe("abcdefghijklmnopqrstuvwxyz012345");
    expect(keys.key("management")).not.toBe(keys.key("inference"));
    now += 3_600_000;
    expect(() => keys.check("Bearer abcdefghijklmnopqrstuvwxyz012345", "inference")).not.toThrow();
    expect(() => keys.check(`Bearer ${keys.key("management")}`, "management")).toThrow("Token authorization failed");
    keys.renew("inference");
    expect(keys.key("inference")).toBe("abcdefghijklmnopqrstuvwxyz012345");
    expect(() => keys.check("Bearer abcdefghijklmnopqrstuvwxyz01234", "inference")).toThrow("Token authorization failed");
  });
});
