/**
 * What `capstan up` does with accounts when it starts and stops: on a fresh database, create the
 * admin with a random one-time password (never a fixed default) to print once; write a token for
 * local CLI commands into the home (mode 0600), and revoke it and remove the file at stop.
 */
import { hostname } from "node:os";
import type { Clock } from "../clock/index.js";
import type { Store } from "../store/index.js";
import { AuthService } from "./auth-service.js";
import { removeLocalCliToken, writeLocalCliToken } from "./local-cli-token.js";
import type { LoginLimits } from "./login-limiter.js";

export interface LocalAccounts {
  auth: AuthService;
  /** What to print once the server listens at `url` (the first admin's credentials, or nothing). */
  banner(url: string): string;
  /** Revokes the local CLI token and removes its file. */
  stop(): Promise<void>;
}

export async function startLocalAccounts(platform: { store: Store; clock: Clock }, home: string, options: { loginLimits?: LoginLimits } = {}): Promise<LocalAccounts> {
  const auth = new AuthService(platform.store, { clock: platform.clock, ...(options.loginLimits ? { loginLimits: options.loginLimits } : {}) });
  const firstAdmin = await auth.ensureFirstAdmin();
  const cliToken = await auth.issueLocalCliToken(hostname());
  if (cliToken) writeLocalCliToken(home, cliToken.token);
  return {
    auth,
    banner: (url) =>
      firstAdmin
        ? `\nFirst start: an admin account was created. Sign in at ${url} with\n  username: ${firstAdmin.username}\n  password: ${firstAdmin.password}\nThis password is shown only this once; change it under Account after signing in.\n\n`
        : "",
    async stop() {
      if (!cliToken) return;
      removeLocalCliToken(home);
      await auth.revokeTokenById(cliToken.id);
    },
  };
}
