/**
 * The web Deploy form's own checks (web/src/pages/deployment-request.ts) agree with the API's: the
 * request it would send is accepted by createDeployment's rules, and each value the API refuses is
 * refused at the same field before sending, for the local and the Kubernetes target.
 */
import { describe, expect, it } from "vitest";
import { deployRequest, type DeployFormValues } from "../../web/src/pages/deployment-request.js";

const local: DeployFormValues = { name: "users-prod", model: "users", ref: "production", target: "local", cluster: "", namespace: "default", replicas: "2", gpus: "0", cpu: "", memory: "", tokenAuth: true };
const kube: DeployFormValues = { ...local, target: "kubernetes", cluster: "gpu", namespace: "serving", gpus: "1", cpu: "500m", memory: "4Gi" };

describe("the Deploy form's checks", () => {
  it("build the API's request for a local and a Kubernetes deployment", () => {
    expect(deployRequest(local)).toEqual({ body: { name: "users-prod", model: "users", ref: "production", replicas: 2, target: "local" } });
    expect(deployRequest({ ...local, tokenAuth: false })).toEqual({ body: { name: "users-prod", model: "users", ref: "production", replicas: 2, target: "local", token_auth: false } });
    expect(deployRequest(kube)).toEqual({ body: { name: "users-prod", model: "users", ref: "production", replicas: 2, target: "kubernetes", cluster: "gpu", namespace: "serving", gpus: 1, cpu: "500m", memory: "4Gi" } });
    expect(deployRequest({ ...kube, namespace: "", gpus: "", cpu: "", memory: "" })).toEqual({ body: { name: "users-prod", model: "users", ref: "production", replicas: 2, target: "kubernetes", cluster: "gpu", namespace: "default", gpus: 0 } });
  });

  it("refuse at the field what the API refuses", () => {
    const cases: Array<[Partial<DeployFormValues>, string]> = [
      [{ name: "Users" }, "name"],
      [{ name: "../etc" }, "name"],
      [{ name: "a-" }, "name"],
      [{ name: `a${"b".repeat(40)}` }, "name"],
      [{ model: "" }, "model"],
      [{ ref: "" }, "ref"],
      [{ replicas: "33" }, "replicas"],
      [{ replicas: "-1" }, "replicas"],
      [{ replicas: "1.5" }, "replicas"],
      [{ replicas: "" }, "replicas"],
      [{ target: "kubernetes", cluster: "" }, "cluster"],
      [{ target: "kubernetes", cluster: "gpu", namespace: "Serving" }, "namespace"],
      [{ target: "kubernetes", cluster: "gpu", gpus: "17" }, "gpus"],
      [{ target: "kubernetes", cluster: "gpu", cpu: "lots" }, "cpu"],
      [{ target: "kubernetes", cluster: "gpu", memory: "4 GB" }, "memory"],
    ];
    for (const [change, field] of cases) {
      const result = deployRequest({ ...local, ...change });
      expect("errors" in result ? Object.keys(result.errors) : [], JSON.stringify(change)).toEqual([field]);
    }
  });
});
