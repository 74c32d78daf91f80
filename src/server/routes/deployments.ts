/**
 * Deployments: a model's alias (or version) served by replicas, locally or on Kubernetes. Team
 * readers list and show them; editors of the model's team create, scale, roll back and delete
 * them. Another team's deployment (or model) answers 404 exactly like one that does not exist.
 */
import { z } from "zod";
import {
  createDeployment,
  CreateDeploymentRequestSchema,
  deleteDeployment,
  deploymentDetail,
  deploymentKey,
  DeploymentKeySchema,
  deploymentTeam,
  DeploymentViewSchema,
  listDeployments,
  modelTeam,
  rollbackDeployment,
  scaleDeployment,
} from "../../operations/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { accountName, authenticated, authErrors, errorSchema, type ApiServer } from "../schemas.js";

const tags = ["deployments"];
const deploymentParams = z.strictObject({ name: z.string().min(1).max(100) });

export function deploymentRoutes(app: ApiServer, { platform, operations }: RouteContext): void {
  app.get(
    "/api/deployments",
    {
      schema: {
        tags,
        summary: "Deployments of the caller's teams (admins: all); team=NAME or model=NAME to narrow",
        security: authenticated,
        querystring: z.strictObject({ team: accountName.optional(), model: z.string().min(1).max(63).optional() }),
        response: { 200: z.object({ deployments: z.array(DeploymentViewSchema) }), ...authErrors },
      },
    },
    async (request) => ({ deployments: await listDeployments(operations, principalOf(request), request.query) }),
  );

  app.get(
    "/api/deployment-targets",
    {
      schema: {
        tags,
        summary: "Where a deployment may run: local, or a Kubernetes cluster of capstan.yaml (the create form's choices)",
        security: authenticated,
        response: { 200: z.object({ targets: z.array(z.enum(["local", "kubernetes"])), clusters: z.array(z.object({ name: z.string() })) }), ...authErrors },
      },
    },
    (request) => {
      principalOf(request);
      const clusters = Object.keys(platform.config.clusters);
      return { targets: clusters.length > 0 ? (["local", "kubernetes"] as const).slice() : ["local" as const], clusters: clusters.map((name) => ({ name })) };
    },
  );

  app.post(
    "/api/deployments",
    {
      schema: {
        tags,
        summary: "Deploy a model's alias (followed when it moves) or version with N replicas, locally or on a Kubernetes cluster (editors of the model's team)",
        security: authenticated,
        body: CreateDeploymentRequestSchema,
        response: { 201: DeploymentViewSchema, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const team = await modelTeam(operations, principal, request.body.model);
      principal.require(team, "editor", "deploy models");
      const view = await createDeployment(operations, principal, request.body, { clusters: Object.keys(platform.config.clusters) });
      void reply.status(201);
      return view;
    },
  );

  app.get(
    "/api/deployments/:name",
    { schema: { tags, summary: "A deployment with its replicas as last seen", security: authenticated, params: deploymentParams, response: { 200: DeploymentViewSchema, ...authErrors } } },
    async (request) => deploymentDetail(operations, principalOf(request), request.params.name),
  );

  app.get(
    "/api/deployments/:name/key",
    {
      schema: {
        tags,
        summary: "The inference key its local replicas ask for, as TorchServe's clients send it (team editors; never in list or detail answers)",
        security: authenticated,
        params: deploymentParams,
        response: { 200: DeploymentKeySchema, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      principal.require(await deploymentTeam(operations, principal, request.params.name), "editor", "read deployment keys");
      void reply.header("cache-control", "no-store");
      return deploymentKey(operations, principal, request.params.name);
    },
  );

  app.put(
    "/api/deployments/:name/replicas",
    {
      schema: {
        tags,
        summary: "Scale a deployment (team editors)",
        security: authenticated,
        params: deploymentParams,
        body: z.strictObject({ replicas: z.number().int() }),
        response: { 200: DeploymentViewSchema, ...authErrors, 409: errorSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      principal.require(await deploymentTeam(operations, principal, request.params.name), "editor", "scale deployments");
      return scaleDeployment(operations, principal, request.params.name, request.body.replicas);
    },
  );

  app.post(
    "/api/deployments/:name/rollback",
    {
      schema: {
        tags,
        summary: "Go back to the version served before: the followed alias moves back (every deployment of it follows), or a pinned version is pinned to the previous one (team editors)",
        security: authenticated,
        params: deploymentParams,
        response: { 200: DeploymentViewSchema, ...authErrors, 409: errorSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      principal.require(await deploymentTeam(operations, principal, request.params.name), "editor", "roll back deployments");
      return rollbackDeployment(operations, principal, request.params.name);
    },
  );

  app.delete(
    "/api/deployments/:name",
    {
      schema: {
        tags,
        summary: "Delete a deployment: its replicas stop (or its Kubernetes objects are deleted), then it is gone (team editors)",
        security: authenticated,
        params: deploymentParams,
        response: { 202: DeploymentViewSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      principal.require(await deploymentTeam(operations, principal, request.params.name), "editor", "delete deployments");
      void reply.status(202);
      return deleteDeployment(operations, principal, request.params.name);
    },
  );
}
