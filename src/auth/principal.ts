/** Who a request acts as: a user with a role per team (or an admin, who sees and does everything). */
import { ForbiddenError } from "./errors.js";
import { roleAtLeast, ROLE_ACTIONS, type TeamRole } from "./roles.js";

/** How the request proved who it is. */
export type CredentialKind = "session" | "token";

export interface PrincipalInit {
  username: string;
  displayName: string | null;
  isAdmin: boolean;
  kind: "person" | "service";
  roles: ReadonlyMap<string, TeamRole>;
  via: CredentialKind;
  /** The token id, or the session's id hash. */
  credentialId: string;
  /** When the credential stops working (null: never). */
  expiresAt: number | null;
  /** The session's CSRF token (sessions only). */
  csrfToken?: string;
}

export class Principal {
  readonly username: string;
  readonly displayName: string | null;
  readonly isAdmin: boolean;
  readonly kind: "person" | "service";
  readonly roles: ReadonlyMap<string, TeamRole>;
  readonly via: CredentialKind;
  readonly credentialId: string;
  readonly expiresAt: number | null;
  readonly csrfToken: string | undefined;

  constructor(init: PrincipalInit) {
    this.username = init.username;
    this.displayName = init.displayName;
    this.isAdmin = init.isAdmin;
    this.kind = init.kind;
    this.roles = init.roles;
    this.via = init.via;
    this.credentialId = init.credentialId;
    this.expiresAt = init.expiresAt;
    this.csrfToken = init.csrfToken;
  }

  /** May see the team's pipelines, runs and logs. */
  canRead(team: string): boolean {
    return this.isAdmin || this.roles.has(team);
  }

  /** May trigger, cancel, clear and mark in the team. */
  canEdit(team: string): boolean {
    return this.isAdmin || roleAtLeast(this.roles.get(team), "editor");
  }

  /** May manage the team's members and secrets. */
  canManage(team: string): boolean {
    return this.isAdmin || roleAtLeast(this.roles.get(team), "admin");
  }

  /** Teams whose things this principal sees; undefined means all (admins). */
  visibleTeams(): ReadonlySet<string> | undefined {
    return this.isAdmin ? undefined : new Set(this.roles.keys());
  }

  /** Throws ForbiddenError unless the role in `team` is at least `least`; `action` is for the message. */
  require(team: string, least: TeamRole, action: string): void {
    if (this.isAdmin || roleAtLeast(this.roles.get(team), least)) return;
    const role = this.roles.get(team);
    throw new ForbiddenError(
      `${this.username} is ${role ? `a ${role}` : "not a member"} of team ${team} and cannot ${action}; ${least}s can (${ROLE_ACTIONS[least]}), and admins can do everything`,
    );
  }

  /** Throws ForbiddenError unless this is a platform admin. */
  requireAdmin(action: string): void {
    if (!this.isAdmin) throw new ForbiddenError(`only admins can ${action}; ${this.username} is not an admin`);
  }
}
