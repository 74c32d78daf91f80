/** Users, teams and roles, API tokens, browser sessions and password hashing. */
export { AuthService, FIRST_ADMIN, LOCAL_CLI_USER, type AuthServiceOptions, type CreatedSession, type CreatedToken, type NewUserInput, type UserPatch } from "./auth-service.js";
export { AuthConflictError, AuthError, AuthenticationError, AuthInputError, AuthNotFoundError, ForbiddenError, TooManyAttemptsError } from "./errors.js";
export { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginAttempt, type LoginLimiterOptions, type LoginLimits } from "./login-limiter.js";
export { checkTeamName, checkUsername, TEAM_PATTERN, USERNAME_PATTERN } from "./names.js";
export { generatePassword, hashPassword, passwordProblem, verifyPassword } from "./password.js";
export { Principal, type CredentialKind } from "./principal.js";
export { roleAtLeast, TEAM_ROLES, type TeamRole } from "./roles.js";
export { hashSecret, newSecret, safeEqual, TOKEN_PREFIX } from "./secret-token.js";
export { localCliTokenPath, removeLocalCliToken, writeLocalCliToken } from "./local-cli-token.js";
export { credentialsPath, forgetCredential, sameServer, savedCredential, saveCredential, serverKey, type SavedCredential } from "./cli-credentials.js";
export { startLocalAccounts, type LocalAccounts } from "./local-accounts.js";
