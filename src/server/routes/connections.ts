/**
 * Team connections: the team's readers list and show them (settings and secret references, never
 * a secret's value); editors create, replace, delete and test them. Another team's connection is
 * answered as not found.
 */
import { z } from "zod";
import {
  connectionDetail,
  ConnectionCheckSchema,
  ConnectionSpecSchema,
  ConnectionViewSchema,
  deleteConnection,
  listConnections,
  setConnection,
  testConnection,
} from "../../operations/index.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { notFound } from "../errors.js";
import { accountName, authenticated, authErrors, noContent, type ApiServer } from "../schemas.js";

const connectionParams = z.strictObject({ team: accountName, name: z.string().min(1).max(63) });

export function connectionRoutes(app: ApiServer, { operations }: RouteContext): void {
  app.get(
    "/api/connections",
    {
      schema: {
        tags: ["connections"],
        summary: "Connections of the teams the caller reads (team=NAME for one team); secrets as references only",
        security: authenticated,
        querystring: z.strictObject({ team: accountName.optional() }),
        response: { 200: z.object({ connections: z.array(ConnectionViewSchema) }), ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { team } = request.query;
      if (team !== undefined && !principal.canRead(team)) throw notFound("team", team);
      return { connections: await listConnections(operations, principal, team) };
    },
  );

  app.get(
    "/api/connections/:team/:name",
    {
      schema: {
        tags: ["connections"],
        summary: "One connection (team readers); secrets as references only",
        security: authenticated,
        params: connectionParams,
        response: { 200: ConnectionViewSchema, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { team, name } = request.params;
      if (!principal.canRead(team)) throw notFound("team", team);
      return connectionDetail(operations, team, name);
    },
  );

  app.put(
    "/api/connections/:team/:name",
    {
      schema: {
        tags: ["connections"],
        summary: "Create or replace a connection (team editors); credentials are references into the team's secrets",
        security: authenticated,
        params: connectionParams,
        body: ConnectionSpecSchema,
        response: { 200: ConnectionViewSchema, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { team, name } = request.params;
      if (!principal.canRead(team)) throw notFound("team", team);
      principal.require(team, "editor", "set connections");
      return setConnection(operations, team, name, request.body);
    },
  );

  app.delete(
    "/api/connections/:team/:name",
    {
      schema: { tags: ["connections"], summary: "Delete a connection (team editors)", security: authenticated, params: connectionParams, response: { ...noContent, ...authErrors } },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { team, name } = request.params;
      if (!principal.canRead(team)) throw notFound("team", team);
      principal.require(team, "editor", "delete connections");
      await deleteConnection(operations, team, name);
      void reply.status(204);
    },
  );

  app.post(
    "/api/connections/:team/:name/test",
    {
      schema: {
        tags: ["connections"],
        summary: "Reach the connection's endpoint with its credentials (team editors): Kafka metadata, an HTTP GET, SELECT 1, an S3 listing, WebHDFS status, a TCP connection to a Spark master",
        security: authenticated,
        params: connectionParams,
        response: { 200: ConnectionCheckSchema, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { team, name } = request.params;
      if (!principal.canRead(team)) throw notFound("team", team);
      principal.require(team, "editor", "test connections");
      return testConnection(operations, team, name);
    },
  );
}
