/**
 * Users, teams, API tokens and browser sessions: who may sign in, how a credential becomes a
 * Principal, and the commands that change accounts. Every credential is checked against the
 * database on every use, so revocation, logout and expiry take effect at once.
 */
import { EventEmitter } from "node:events";
import { systemClock, type Clock } from "../clock/index.js";
import type { Store } from "../store/index.js";
import type { Session } from "../store/session-repository.js";
import type { ApiToken } from "../store/token-repository.js";
import type { User } from "../store/user-repository.js";
import { AuthConflictError, AuthenticationError, AuthInputError, AuthNotFoundError } from "./errors.js";
import { LoginLimiter, type LoginLimits } from "./login-limiter.js";
import { checkTeamName, checkUsername } from "./names.js";
import { decoyPasswordHash, generatePassword, hashPassword, passwordProblem, verifyPassword } from "./password.js";
import { Principal, type CredentialKind } from "./principal.js";
import { TEAM_ROLES, type TeamRole } from "./roles.js";
import { hashSecret, newId, newSecret, TOKEN_PREFIX } from "./secret-token.js";

export interface AuthServiceOptions {
  clock?: Clock;
  /** A session ends this long after sign-in, however active (default 7 days). */
  sessionTtlMs?: number;
  /** A session ends after this long without a request (default 24 hours). */
  sessionIdleMs?: number;
  /** The sign-in limiter; or give `loginLimits` to build one on this service's clock. */
  limiter?: LoginLimiter;
  loginLimits?: LoginLimits;
}

/** A new API token; `token` is the secret, shown once and never stored. */
export interface CreatedToken {
  id: string;
  name: string;
  username: string;
  token: string;
  createdAt: number;
  expiresAt: number | null;
}

/** A new browser session; `secret` goes into the session cookie and `csrfToken` into the CSRF cookie. */
export interface CreatedSession {
  secret: string;
  csrfToken: string;
  expiresAt: number;
  principal: Principal;
}

export interface NewUserInput {
  username: string;
  displayName?: string | null;
  /** Omit for a person to get a generated password (returned once); service accounts have none. */
  password?: string;
  admin?: boolean;
  kind?: "person" | "service";
}

export interface UserPatch {
  displayName?: string | null;
  admin?: boolean;
  disabled?: boolean;
  password?: string;
}

/** The name of the service account whose token local CLI commands use against `capstan up`. */
export const LOCAL_CLI_USER = "local-cli";
/** The account created on first start. */
export const FIRST_ADMIN = "admin";

const TOUCH_TOKEN_MS = 60_000;
const TOUCH_SESSION_MS = 5 * 60_000;

export class AuthService {
  /** Emits `changed` with a username whenever that user's credentials or roles change (for live streams). */
  readonly events = new EventEmitter<{ changed: [string] }>();
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #sessionTtlMs: number;
  readonly #sessionIdleMs: number;
  readonly #limiter: LoginLimiter;

  constructor(store: Store, options: AuthServiceOptions = {}) {
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    this.#sessionTtlMs = options.sessionTtlMs ?? 7 * 24 * 3600_000;
    this.#sessionIdleMs = options.sessionIdleMs ?? 24 * 3600_000;
    this.#limiter = options.limiter ?? new LoginLimiter({ ...options.loginLimits, now: () => this.#clock.now() });
    this.events.setMaxListeners(0);
  }

  /** The time on this service's clock (token expiries are counted from it). */
  now(): number {
    return this.#clock.now();
  }

  // ------------------------------------------------------------ credentials

  /** The principal of an API token, or undefined when it is unknown, revoked, expired or its user disabled. */
  async authenticateToken(secret: string): Promise<Principal | undefined> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return undefined;
    const token = await this.#store.tokens.findByHash(hashSecret(secret));
    const now = this.#clock.now();
    if (!token || token.revokedAt !== null || (token.expiresAt !== null && token.expiresAt <= now)) return undefined;
    const principal = await this.#principal(token.username, "token", token.id, token.expiresAt);
    if (principal && (token.lastUsedAt === null || now - token.lastUsedAt > TOUCH_TOKEN_MS)) await this.#store.tokens.touch(token.id, now);
    return principal;
  }

  /** The principal of a session cookie, or undefined when it is unknown, ended or idle too long. */
  async authenticateSession(secret: string): Promise<Principal | undefined> {
    if (secret.length > 200) return undefined;
    const idHash = hashSecret(secret);
    const session = await this.#store.sessions.get(idHash);
    const now = this.#clock.now();
    if (!session || !this.#sessionLive(session, now)) return undefined;
    const principal = await this.#principal(session.username, "session", idHash, Math.min(session.expiresAt, session.lastSeenAt + this.#sessionIdleMs), session.csrfToken);
    if (principal && now - session.lastSeenAt > TOUCH_SESSION_MS) await this.#store.sessions.touch(idHash, now);
    return principal;
  }

  /** Checks again that the credential a principal came from still works (for long-lived streams). */
  async stillValid(principal: Principal): Promise<boolean> {
    const now = this.#clock.now();
    const user = await this.#store.users.get(principal.username);
    if (!user || user.disabled === 1) return false;
    if (principal.via === "token") {
      const token = await this.#store.tokens.get(principal.credentialId);
      return !!token && token.revokedAt === null && (token.expiresAt === null || token.expiresAt > now);
    }
    const session = await this.#store.sessions.get(principal.credentialId);
    return !!session && this.#sessionLive(session, now);
  }

  #sessionLive(session: Session, now: number): boolean {
    return session.expiresAt > now && session.lastSeenAt + this.#sessionIdleMs > now;
  }

  async #principal(username: string, via: CredentialKind, credentialId: string, expiresAt: number | null, csrfToken?: string): Promise<Principal | undefined> {
    const [user, memberships] = await Promise.all([this.#store.users.get(username), this.#store.teams.membershipsOf(username)]);
    if (!user || user.disabled === 1) return undefined;
    return new Principal({
      username: user.username,
      displayName: user.displayName,
      isAdmin: user.isAdmin === 1,
      kind: user.kind,
      roles: new Map(memberships.map((m) => [m.team, m.role])),
      via,
      credentialId,
      expiresAt,
      ...(csrfToken !== undefined ? { csrfToken } : {}),
    });
  }

  /** Checks a username and password; throws AuthenticationError (same message for every failure) or TooManyAttemptsError. */
  async #checkPassword(usernameText: string, password: string, address: string): Promise<User> {
    const username = usernameText.trim().toLowerCase();
    // The attempt is counted before the slow hash, so parallel guesses cannot all get in under the limit.
    const attempt = this.#limiter.begin(username, address);
    let user: User | undefined;
    let matches = false;
    try {
      user = await this.#store.users.get(username);
      const hash = user?.passwordHash ?? (await decoyPasswordHash());
      matches = await verifyPassword(password, hash);
    } catch (error) {
      // Not a wrong password (the database or hashing failed): the slot is given back.
      attempt.succeeded();
      throw error;
    }
    if (!user || user.passwordHash === null || user.disabled === 1 || !matches) {
      attempt.failed();
      throw new AuthenticationError("wrong username or password");
    }
    attempt.succeeded();
    return user;
  }

  /** Signs in with a password and opens a browser session. */
  async login(username: string, password: string, address: string): Promise<CreatedSession> {
    const user = await this.#checkPassword(username, password, address);
    const now = this.#clock.now();
    const secret = newSecret();
    const csrfToken = newSecret();
    const expiresAt = now + this.#sessionTtlMs;
    const idHash = hashSecret(secret);
    await this.#store.sessions.insert({ idHash, username: user.username, csrfToken, createdAt: now, expiresAt, lastSeenAt: now });
    const principal = await this.#principal(user.username, "session", idHash, Math.min(expiresAt, now + this.#sessionIdleMs), csrfToken);
    if (!principal) throw new AuthenticationError("wrong username or password");
    return { secret, csrfToken, expiresAt, principal };
  }

  /** Signs in with a password and creates an API token (what `capstan login` does). */
  async exchangePassword(username: string, password: string, address: string, tokenName: string, expiresAt: number | null): Promise<CreatedToken> {
    const user = await this.#checkPassword(username, password, address);
    return this.createToken(user.username, tokenName, expiresAt);
  }

  /** Ends a session at once. */
  async logout(principal: Principal): Promise<void> {
    if (principal.via === "session") await this.#store.sessions.delete(principal.credentialId);
    this.events.emit("changed", principal.username);
  }

  /**
   * Changes one's own password. Every API token of the user is revoked (the one making the change
   * too) and every session ends but the one making the change: whoever had the old password may have
   * made tokens or sessions with it.
   */
  async changePassword(principal: Principal, current: string, next: string, address: string): Promise<void> {
    await this.#checkPassword(principal.username, current, address);
    const problem = passwordProblem(next);
    if (problem) throw new AuthInputError("new_password", `new password: ${problem}`);
    const now = this.#clock.now();
    await this.#store.users.update(principal.username, { passwordHash: await hashPassword(next), updatedAt: now });
    await this.#endCredentials(principal.username, now, principal.via === "session" ? principal.credentialId : undefined);
    this.events.emit("changed", principal.username);
  }

  /** Revokes every API token of a user and ends its sessions (but `keepSession`). */
  async #endCredentials(username: string, now: number, keepSession?: string): Promise<void> {
    await this.#store.tokens.revokeForUser(username, now);
    await this.#store.sessions.deleteForUser(username, keepSession);
  }

  // ------------------------------------------------------------ tokens

  /** Creates an API token for `username`; the secret is in the result and nowhere else. */
  async createToken(username: string, name: string, expiresAt: number | null): Promise<CreatedToken> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 100) throw new AuthInputError("name", "a token needs a name of 1–100 characters (say what uses it, e.g. \"nightly export script\")");
    const now = this.#clock.now();
    if (expiresAt !== null && !(expiresAt > now)) throw new AuthInputError("expires_at", `the expiry ${new Date(expiresAt).toISOString()} is not in the future`);
    const token = newSecret(TOKEN_PREFIX);
    const id = newId();
    await this.#store.tokens.insert({ id, username, name: trimmed, tokenHash: hashSecret(token), createdAt: now, expiresAt, lastUsedAt: null, revokedAt: null });
    return { id, name: trimmed, username, token, createdAt: now, expiresAt };
  }

  /** Tokens of a user (admins may pass undefined for all). */
  listTokens(username?: string): Promise<ApiToken[]> {
    return this.#store.tokens.list(username);
  }

  /** Revokes a token of the principal's own (admins: anyone's); unknown or foreign ids are not found. */
  async revokeToken(principal: Principal, id: string): Promise<void> {
    const token = await this.#store.tokens.get(id);
    if (!token || (token.username !== principal.username && !principal.isAdmin)) throw new AuthNotFoundError(`no token ${JSON.stringify(id)}`);
    if (token.revokedAt !== null) throw new AuthConflictError(`token ${id} (${token.name}) was already revoked`);
    await this.#store.tokens.revoke(id, this.#clock.now());
    this.events.emit("changed", token.username);
  }

  // ------------------------------------------------------------ users

  listUsers(): Promise<User[]> {
    return this.#store.users.list();
  }

  async getUser(username: string): Promise<User> {
    const user = await this.#store.users.get(username);
    if (!user) throw new AuthNotFoundError(`no user ${JSON.stringify(username)}`);
    return user;
  }

  /** Creates a user; a person without a given password gets a generated one, returned here once. */
  async createUser(input: NewUserInput): Promise<{ user: User; password?: string }> {
    const username = checkUsername(input.username);
    const kind = input.kind ?? "person";
    let password = input.password;
    if (password !== undefined) {
      if (kind === "service") throw new AuthInputError("password", "service accounts sign in with API tokens only; leave the password out");
      const problem = passwordProblem(password);
      if (problem) throw new AuthInputError("password", problem);
    }
    const generated = kind === "person" && password === undefined ? generatePassword() : undefined;
    password ??= generated;
    const now = this.#clock.now();
    const inserted = await this.#store.users.insert({
      username,
      displayName: input.displayName ?? null,
      passwordHash: password === undefined ? null : await hashPassword(password),
      isAdmin: input.admin ? 1 : 0,
      kind,
      disabled: 0,
      createdAt: now,
    });
    if (!inserted) throw new AuthConflictError(`user ${username} exists`);
    return { user: await this.getUser(username), ...(generated ? { password: generated } : {}) };
  }

  /**
   * Changes a user; refuses to take away the last active admin. Disabling ends the user's sessions;
   * a new password (an admin's reset, `capstan users reset-password`) also revokes all its API tokens.
   */
  async updateUser(username: string, patch: UserPatch): Promise<User> {
    const user = await this.getUser(username);
    if ((patch.admin === false || patch.disabled === true) && user.isAdmin === 1 && user.disabled === 0) await this.#keepAnAdmin(username);
    let passwordHash: string | undefined;
    if (patch.password !== undefined) {
      if (user.kind === "service") throw new AuthInputError("password", "service accounts sign in with API tokens only");
      const problem = passwordProblem(patch.password);
      if (problem) throw new AuthInputError("password", problem);
      passwordHash = await hashPassword(patch.password);
    }
    await this.#store.users.update(username, {
      ...(patch.displayName !== undefined ? { displayName: patch.displayName } : {}),
      ...(patch.admin !== undefined ? { isAdmin: patch.admin ? 1 : 0 } : {}),
      ...(patch.disabled !== undefined ? { disabled: patch.disabled ? 1 : 0 } : {}),
      ...(passwordHash !== undefined ? { passwordHash } : {}),
      updatedAt: this.#clock.now(),
    });
    if (passwordHash !== undefined) await this.#endCredentials(username, this.#clock.now());
    else if (patch.disabled === true) await this.#store.sessions.deleteForUser(username);
    this.events.emit("changed", username);
    return this.getUser(username);
  }

  /** Deletes a user with its tokens, sessions and memberships. */
  async deleteUser(username: string): Promise<void> {
    const user = await this.getUser(username);
    if (user.isAdmin === 1 && user.disabled === 0) await this.#keepAnAdmin(username);
    await this.#store.transaction((tx) => tx.users.delete(username));
    this.events.emit("changed", username);
  }

  async #keepAnAdmin(leaving: string): Promise<void> {
    const others = (await this.#store.users.list()).filter((u) => u.username !== leaving && u.isAdmin === 1 && u.disabled === 0 && u.kind === "person");
    if (others.length === 0) throw new AuthConflictError(`${leaving} is the last admin who can sign in; make another user admin first`);
  }

  // ------------------------------------------------------------ teams

  listTeams() {
    return this.#store.teams.list();
  }

  allMembers() {
    return this.#store.teams.allMembers();
  }

  members(team: string) {
    return this.#store.teams.members(team);
  }

  async createTeam(name: string, description: string | null): Promise<void> {
    checkTeamName(name);
    if (!(await this.#store.teams.insert({ name, description, createdAt: this.#clock.now() }))) throw new AuthConflictError(`team ${name} exists`);
  }

  async deleteTeam(name: string): Promise<void> {
    const members = await this.#store.teams.members(name);
    if (!(await this.#store.transaction((tx) => tx.teams.delete(name)))) throw new AuthNotFoundError(`no team ${JSON.stringify(name)}`);
    for (const m of members) this.events.emit("changed", m.username);
  }

  /** Adds a member or changes the role; the team is created when a pipeline names it but no team record exists yet. */
  async setMember(team: string, username: string, role: TeamRole): Promise<void> {
    checkTeamName(team);
    if (!TEAM_ROLES.includes(role)) throw new AuthInputError("role", `role ${JSON.stringify(role)} is not one of ${TEAM_ROLES.join(", ")}`);
    await this.getUser(username);
    const now = this.#clock.now();
    await this.#store.transaction(async (tx) => {
      await tx.teams.insert({ name: team, description: null, createdAt: now });
      await tx.teams.setMember(team, username, role, now);
    });
    this.events.emit("changed", username);
  }

  async removeMember(team: string, username: string): Promise<void> {
    if (!(await this.#store.teams.removeMember(team, username))) throw new AuthNotFoundError(`${username} is not a member of team ${team}`);
    this.events.emit("changed", username);
  }

  // ------------------------------------------------------------ first start

  /**
   * On a database without users, creates the admin with a random password and returns it (to be
   * shown once); undefined when users exist (or another replica created the admin first).
   */
  async ensureFirstAdmin(): Promise<{ username: string; password: string } | undefined> {
    const people = (await this.#store.users.list()).filter((u) => u.kind === "person");
    if (people.length > 0) return undefined;
    const password = generatePassword();
    const now = this.#clock.now();
    const inserted = await this.#store.users.insert({ username: FIRST_ADMIN, displayName: "Administrator", passwordHash: await hashPassword(password), isAdmin: 1, kind: "person", disabled: 0, createdAt: now });
    return inserted ? { username: FIRST_ADMIN, password } : undefined;
  }

  /**
   * A fresh token for local CLI commands, owned by the `local-cli` service account (an admin), with
   * earlier ones of the same host revoked. Undefined when an admin has disabled that account.
   */
  async issueLocalCliToken(host: string): Promise<CreatedToken | undefined> {
    const name = `local CLI of capstan up on ${host}`.slice(0, 100);
    const now = this.#clock.now();
    await this.#store.users.insert({ username: LOCAL_CLI_USER, displayName: "Local CLI of capstan up", passwordHash: null, isAdmin: 1, kind: "service", disabled: 0, createdAt: now });
    const user = await this.#store.users.get(LOCAL_CLI_USER);
    if (!user || user.disabled === 1) return undefined;
    await this.#store.tokens.revokeNamed(LOCAL_CLI_USER, name, now);
    return this.createToken(LOCAL_CLI_USER, name, null);
  }

  /** Revokes a token by id without an acting principal (used when `capstan up` stops). */
  async revokeTokenById(id: string): Promise<void> {
    const token = await this.#store.tokens.get(id);
    if (await this.#store.tokens.revoke(id, this.#clock.now())) this.events.emit("changed", token?.username ?? "");
  }
}
