/** Users: admins create, change, disable and delete them; team admins may list them to add members. */
import { z } from "zod";
import { roleAtLeast } from "../../auth/index.js";
import type { TeamMember } from "../../store/team-repository.js";
import type { User } from "../../store/user-repository.js";
import { principalOf } from "../auth-hook.js";
import type { RouteContext } from "../context.js";
import { authenticated, authErrors, errorSchema, noContent, usernameParams, usernameSchema, type ApiServer } from "../schemas.js";
import { MembershipSchema } from "./auth.js";

/** A user as listed: never the password hash. */
export function userView(user: User, memberships: readonly TeamMember[]): z.infer<typeof UserSchema> {
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

export const UserSchema = z
  .object({
    username: z.string(),
    display_name: z.string().nullable(),
    admin: z.boolean(),
    kind: z.enum(["person", "service"]),
    disabled: z.boolean(),
    has_password: z.boolean(),
    created_at: z.string(),
    teams: z.array(MembershipSchema).describe("Listed to admins"),
  })
  .meta({ id: "User" });

export function userRoutes(app: ApiServer, ctx: RouteContext): void {
  app.get(
    "/api/users",
    { schema: { tags: ["users"], summary: "All users (admins and team admins)", security: authenticated, response: { 200: z.object({ users: z.array(UserSchema) }), ...authErrors } } },
    async (request) => {
      const principal = principalOf(request);
      if (!principal.isAdmin && ![...principal.roles.values()].some((role) => roleAtLeast(role, "admin"))) principal.requireAdmin("list users (team admins can too)");
      const [users, members] = await Promise.all([ctx.auth.listUsers(), ctx.auth.allMembers()]);
      return { users: users.map((u) => userView(u, principal.isAdmin ? members : [])) };
    },
  );

  app.post(
    "/api/users",
    {
      schema: {
        tags: ["users"],
        summary: "Create a user (admins); without a password a person gets a generated one, returned in this answer only",
        security: authenticated,
        body: z.strictObject({
          username: usernameSchema,
          display_name: z.string().max(200).optional(),
          password: z.string().min(1).max(1000).optional(),
          admin: z.boolean().optional(),
          kind: z.enum(["person", "service"]).optional(),
        }),
        response: { 201: z.object({ user: UserSchema, password: z.string().optional().describe("The generated password, in this answer only") }), ...authErrors, 409: errorSchema },
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

  app.get(
    "/api/users/:username",
    { schema: { tags: ["users"], summary: "One user (admins, or the user itself)", security: authenticated, params: usernameParams, response: { 200: UserSchema, ...authErrors } } },
    async (request) => {
      const principal = principalOf(request);
      if (request.params.username !== principal.username) principal.requireAdmin("see other users");
      const user = await ctx.auth.getUser(request.params.username);
      return userView(user, await ctx.auth.allMembers());
    },
  );

  app.patch(
    "/api/users/:username",
    {
      schema: {
        tags: ["users"],
        summary: "Change a user (admins): display name, admin, disabled (ends its sessions at once), password",
        security: authenticated,
        params: usernameParams,
        body: z.strictObject({ display_name: z.string().max(200).nullable().optional(), admin: z.boolean().optional(), disabled: z.boolean().optional(), password: z.string().min(1).max(1000).optional() }).optional(),
        response: { 200: UserSchema, ...authErrors, 409: errorSchema },
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

  app.delete(
    "/api/users/:username",
    { schema: { tags: ["users"], summary: "Delete a user with its tokens, sessions and memberships (admins)", security: authenticated, params: usernameParams, response: { ...noContent, ...authErrors, 409: errorSchema } } },
    async (request, reply) => {
      principalOf(request).requireAdmin("delete users");
      await ctx.auth.deleteUser(request.params.username);
      void reply.status(204);
    },
  );
}
