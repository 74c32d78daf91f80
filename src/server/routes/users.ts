/** Users: admins create, change, disable and delete them; team admins may list them to add members. */
import type { FastifyInstance } from "fastify";
import { roleAtLeast } from "../../auth/index.js";
import type { TeamMember } from "../../store/team-repository.js";
import type { User } from "../../store/user-repository.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authenticated, authErrors, errorSchema, noContent, usernameParams, usernameSchema } from "../schemas.js";

/** A user as listed: never the password hash. */
export function userView(user: User, memberships: readonly TeamMember[]) {
  return {
    username: user.username,
    display_name: user.displayName,
    admin: user.isAdmin === 1,
    kind: user.kind,
    disabled: user.disabled === 1,
    has_password: user.passwordHash !== null,
    created_at: new Date(user.createdAt).toISOString(),
    teams: memberships.filter((m) => m.username === user.username).map((m) => ({ team: m.team, role: m.role })),
  };
}

const userSchema = {
  type: "object",
  properties: {
    username: { type: "string" },
    display_name: { type: ["string", "null"] },
    admin: { type: "boolean" },
    kind: { type: "string", enum: ["person", "service"] },
    disabled: { type: "boolean" },
    has_password: { type: "boolean" },
    created_at: { type: "string" },
    teams: { type: "array", items: { type: "object", properties: { team: { type: "string" }, role: { type: "string" } } } },
  },
} as const;

export function userRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get(
    "/api/users",
    { schema: { tags: ["users"], summary: "All users (admins and team admins)", security: authenticated, response: { 200: { type: "object", properties: { users: { type: "array", items: userSchema } } }, ...authErrors } } },
    async (request) => {
      const principal = principalOf(request);
      if (!principal.isAdmin && ![...principal.roles.values()].some((role) => roleAtLeast(role, "admin"))) principal.requireAdmin("list users (team admins can too)");
      const [users, members] = await Promise.all([ctx.auth.listUsers(), ctx.auth.allMembers()]);
      return { users: users.map((u) => userView(u, principal.isAdmin ? members : [])) };
    },
  );

  app.post<{ Body: { username: string; display_name?: string; password?: string; admin?: boolean; kind?: "person" | "service" } }>(
    "/api/users",
    {
      schema: {
        tags: ["users"],
        summary: "Create a user (admins); without a password a person gets a generated one, returned in this answer only",
        security: authenticated,
        body: {
          type: "object",
          required: ["username"],
          additionalProperties: false,
          properties: {
            username: usernameSchema,
            display_name: { type: "string", maxLength: 200 },
            password: { type: "string", minLength: 1, maxLength: 1000 },
            admin: { type: "boolean" },
            kind: { type: "string", enum: ["person", "service"] },
          },
        },
        response: { 201: { type: "object", properties: { user: userSchema, password: { type: "string" } } }, ...authErrors, 409: errorSchema },
      },
    },
    async (request, reply) => {
      principalOf(request).requireAdmin("create users");
      const body = request.body;
      const created = await ctx.auth.createUser({
        username: body.username,
        ...(body.display_name !== undefined ? { displayName: body.display_name } : {}),
        ...(body.password !== undefined ? { password: body.password } : {}),
        ...(body.admin !== undefined ? { admin: body.admin } : {}),
        ...(body.kind !== undefined ? { kind: body.kind } : {}),
      });
      void reply.status(201);
      return { user: userView(created.user, []), ...(created.password ? { password: created.password } : {}) };
    },
  );

  app.get<{ Params: { username: string } }>(
    "/api/users/:username",
    { schema: { tags: ["users"], summary: "One user (admins, or the user itself)", security: authenticated, params: usernameParams, response: { 200: userSchema, ...authErrors } } },
    async (request) => {
      const principal = principalOf(request);
      if (request.params.username !== principal.username) principal.requireAdmin("see other users");
      const user = await ctx.auth.getUser(request.params.username);
      return userView(user, await ctx.auth.allMembers());
    },
  );

  app.patch<{ Params: { username: string }; Body: { display_name?: string | null; admin?: boolean; disabled?: boolean; password?: string } }>(
    "/api/users/:username",
    {
      schema: {
        tags: ["users"],
        summary: "Change a user (admins): display name, admin, disabled (ends its sessions at once), password",
        security: authenticated,
        params: usernameParams,
        body: {
          type: "object",
          additionalProperties: false,
          properties: { display_name: { type: ["string", "null"], maxLength: 200 }, admin: { type: "boolean" }, disabled: { type: "boolean" }, password: { type: "string", minLength: 1, maxLength: 1000 } },
        },
        response: { 200: userSchema, ...authErrors, 409: errorSchema },
      },
    },
    async (request) => {
      principalOf(request).requireAdmin("change users");
      const body = request.body ?? {};
      const user = await ctx.auth.updateUser(request.params.username, {
        ...(body.display_name !== undefined ? { displayName: body.display_name } : {}),
        ...(body.admin !== undefined ? { admin: body.admin } : {}),
        ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
        ...(body.password !== undefined ? { password: body.password } : {}),
      });
      return userView(user, await ctx.auth.allMembers());
    },
  );

  app.delete<{ Params: { username: string } }>(
    "/api/users/:username",
    { schema: { tags: ["users"], summary: "Delete a user with its tokens, sessions and memberships (admins)", security: authenticated, params: usernameParams, response: { ...noContent, ...authErrors, 409: errorSchema } } },
    async (request, reply) => {
      principalOf(request).requireAdmin("delete users");
      await ctx.auth.deleteUser(request.params.username);
      void reply.status(204);
    },
  );
}
