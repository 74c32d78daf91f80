/**
 * The platform image's Containerfile (deploy/container/Containerfile), read as text since no image
 * can be built here: its install steps are the scripts the tests run (scripts/setup.sh and, through
 * it, scripts/setup-python.sh), and what it produces (entrypoint, user, port, writable paths) is what
 * the Helm chart and the kustomize base expect of it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../support/build.js";
import { createHelm } from "../support/helm-testenv.js";
import { kustomizeBuild } from "../support/kustomize-testenv.js";

/** One instruction of a Containerfile, continuation lines joined. */
interface Instruction {
  keyword: string;
  args: string;
  /** Index of the build stage (FROM) it belongs to. */
  stage: number;
}

function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let pending = "";
  let stage = -1;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    pending += `${line.replace(/\\$/, "").trim()} `;
    if (line.endsWith("\\")) continue;
    const [keyword = "", ...rest] = pending.trim().split(/\s+/);
    if (keyword.toUpperCase() === "FROM") stage += 1;
    result.push({ keyword: keyword.toUpperCase(), args: rest.join(" "), stage });
    pending = "";
  }
  return result;
}

interface PlatformContainer {
  image: string;
  args?: string[];
  command?: string[];
  ports: { containerPort: number }[];
  volumeMounts: { mountPath: string; readOnly?: boolean }[];
}

interface PlatformPod {
  securityContext: { runAsUser: number; runAsGroup: number; runAsNonRoot: boolean };
  containers: PlatformContainer[];
}

const file = readFileSync(join(REPO_ROOT, "deploy/container/Containerfile"), "utf8");
const all = instructions(file);
const lastStage = Math.max(...all.map((i) => i.stage));
const runtime = all.filter((i) => i.stage === lastStage);
const last = (keyword: string) => runtime.filter((i) => i.keyword === keyword).pop()?.args ?? "";

/** The platform pods the chart (trial values) and the kustomize base describe. */
const pods: Record<string, PlatformPod> = {};

beforeAll(async () => {
  const helm = await createHelm();
  const chart = await helm.run(["template", "capstan", join(REPO_ROOT, "deploy/helm/capstan"), "--set", "postgresql.bundled=true"]);
  expect(chart.code, chart.stderr).toBe(0);
  const base = await kustomizeBuild(join(REPO_ROOT, "deploy/kustomize/base"));
  expect(base.code, base.stderr).toBe(0);
  for (const [name, text] of [["chart", chart.stdout], ["kustomize", base.stdout]] as const) {
    const deployment = parseAllDocuments(text)
      .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { template: { spec: PlatformPod } } } | null)
      .find((o) => o?.kind === "Deployment" && o.metadata?.name !== undefined && !o.metadata.name.endsWith("postgresql"));
    if (!deployment?.spec) throw new Error(`no platform Deployment in the ${name} output`);
    pods[name] = deployment.spec.template.spec;
  }
});

describe("the platform Containerfile", () => {
  it("builds on a Node 20+ image and installs through the scripts the tests run, not commands of its own", () => {
    const nodeImage = /ARG NODE_IMAGE=node:(\d+)/.exec(file);
    expect(Number(nodeImage?.[1])).toBeGreaterThanOrEqual(20);
    expect(all.filter((i) => i.keyword === "FROM").every((i) => i.args.startsWith("${NODE_IMAGE}"))).toBe(true);
    const runs = all.filter((i) => i.keyword === "RUN").map((i) => i.args);
    expect(runs).toContain("scripts/setup.sh");
    // Installing npm packages, building and making the venv happen only inside the scripts.
    for (const run of runs) expect(run, run).not.toMatch(/\bnpm (ci|install|run)\b|\bpip3? install\b|-m venv\b|\bnpx tsc\b|\bvite\b/);
    // scripts/setup.sh is the script CI runs (with --test) and it makes the venv with setup-python.sh.
    const setup = readFileSync(join(REPO_ROOT, "scripts/setup.sh"), "utf8");
    expect(setup).toMatch(/scripts\/setup-python\.sh/);
    expect(setup).toMatch(/npm ci\b/);
    expect(setup).toMatch(/npm run --silent build/);
    // What the scripts read is copied in before they run.
    const copies = all.filter((i) => i.keyword === "COPY" && i.stage === 0).map((i) => i.args);
    expect(copies).toEqual(expect.arrayContaining(["scripts/setup.sh scripts/setup-python.sh ./scripts/", "python ./python", "src ./src", "web ./web"]));
    // The venv the script made is the one the runtime stage uses.
    expect(runtime.map((i) => i.args)).toContain("--from=build /opt/capstan/.venv /opt/capstan/.venv");
    expect(last("ENV")).toContain("CAPSTAN_PYTHON=/opt/capstan/.venv/bin/python");
  });

  it("runs capstan under tini as a non-root user, with only volumes writable", () => {
    expect(JSON.parse(last("ENTRYPOINT"))).toEqual(["/usr/bin/tini", "--", "capstan"]);
    expect(JSON.parse(last("CMD"))).toEqual(["up"]);
    expect(runtime.some((i) => i.keyword === "RUN" && /apt-get install .*\btini\b/.test(i.args))).toBe(true);
    expect(last("USER")).toBe("10001:10001");
    expect(JSON.parse(last("VOLUME"))).toEqual(["/var/lib/capstan", "/tmp"]);
    expect(last("ENV")).toMatch(/PYTHONDONTWRITEBYTECODE=1/);
  });

  it("matches what the chart and the kustomize base run: the command, user and group, port and writable paths", () => {
    const [, port = ""] = /^(\d+)$/.exec(last("EXPOSE")) ?? [];
    const [user = "", group = ""] = last("USER").split(":");
    const env = Object.fromEntries(last("ENV").split(/\s+/).map((pair) => pair.split("=", 2) as [string, string]));
    expect(env.CAPSTAN_PORT).toBe(port);
    for (const [name, pod] of Object.entries(pods)) {
      const container = pod.containers[0];
      expect(container?.image, name).toMatch(/\/capstan\/platform:/);
      // The pod keeps the image's entrypoint (no command) and passes CMD's arguments.
      expect(container?.command, name).toBeUndefined();
      expect(container?.args, name).toEqual(JSON.parse(last("CMD")));
      expect(pod.securityContext, name).toMatchObject({ runAsNonRoot: true, runAsUser: Number(user), runAsGroup: Number(group) });
      expect(container?.ports.map((p) => p.containerPort), name).toEqual([Number(port)]);
      // Every writable mount is one of the image's volumes (the config is mounted read-only).
      const writable = (container?.volumeMounts ?? []).filter((m) => m.readOnly !== true).map((m) => m.mountPath).sort();
      expect(writable, name).toEqual([...(JSON.parse(last("VOLUME")) as string[])].sort());
    }
    // capstan.yaml listens on the image's port (the chart renders the same server: section; the kustomize test compares them).
    const config = readFileSync(join(REPO_ROOT, "deploy/kustomize/base/capstan.yaml"), "utf8");
    expect((parse(config) as { server: { port: number; host: string } }).server).toEqual({ host: "0.0.0.0", port: Number(port), trusted_proxies: ["10.0.0.0/8"] });
  });
});
