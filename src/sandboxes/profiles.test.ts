/** Profiles and quotas from capstan.yaml: defaults, GPU timeouts, volumes and cross-field errors. */
import { describe, expect, it } from "vitest";
import { configSchema } from "../config/index.js";
import { DEFAULT_GPU_IDLE_TIMEOUT_MS, quotaOf, resolveSandboxSettings } from "./profiles.js";

describe("sandbox profiles", () => {
  it("offers one local default profile when none is configured, with no quota", () => {
    const settings = resolveSandboxSettings(undefined);
    expect([...settings.profiles.keys()]).toEqual(["default"]);
    expect(settings.origin).toBe("http://{id}.localhost:{port}");
    expect(quotaOf(settings, "ml").sandboxes).toBe(Number.POSITIVE_INFINITY);
  });

  it("reads resources, a shorter idle timeout for GPU profiles, and volumes at ~/shared/NAME", () => {
    const file = configSchema.parse({ sandboxes: { profiles: { gpu: { gpu: 1, cpu: "500m", memory: "4Gi", volumes: ["data", { name: "models", path: "work/models" }] } }, quotas: { default: { gpus: 2 }, ml: { sandboxes: 3 } } } });
    const settings = resolveSandboxSettings(file.sandboxes);
    expect(settings.profiles.get("gpu")).toMatchObject({ cpu: 0.5, memory: 4 * 1024 ** 3, gpu: 1, idleTimeoutMs: DEFAULT_GPU_IDLE_TIMEOUT_MS, volumes: [{ name: "data", path: "shared/data" }, { name: "models", path: "work/models" }] });
    expect(quotaOf(settings, "ml")).toEqual({ sandboxes: 3, gpus: 2 });
    expect(settings.defaultProfile).toBe("gpu");
  });

  it("refuses volume paths that leave the home and origins without {id}", () => {
    expect(configSchema.safeParse({ sandboxes: { profiles: { a: { volumes: [{ name: "data", path: "../x" }] } } } }).success).toBe(false);
    expect(configSchema.safeParse({ sandboxes: { origin: "https://sbx.example.com" } }).success).toBe(false);
  });

  it("names the field of cross-field problems", () => {
    expect(() => resolveSandboxSettings({ default_profile: "nope" })).toThrow(expect.objectContaining({ field: "sandboxes.default_profile" }) as Error);
    expect(() => resolveSandboxSettings({ profiles: { k: { backend: "kubernetes" } } })).toThrow(expect.objectContaining({ field: "sandboxes.profiles.k.image" }) as Error);
    expect(() => resolveSandboxSettings({ profiles: { l: { cluster: "gpu" } } })).toThrow(expect.objectContaining({ field: "sandboxes.profiles.l.cluster" }) as Error);
  });
});
