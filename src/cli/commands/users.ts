/**
 * `capstan users reset-password`: recovery for whoever can reach the home's database (the same trust
 * as reading its files) — a new one-time password for an account, printed once; its sessions end and
 * its API tokens are revoked, as with any new password.
 */
import type { Command } from "commander";
import { configFrom, globalOptions } from "../context.js";
import { printJson } from "../output.js";

export function registerUserCommands(program: Command): void {
  const users = program.command("users").description("accounts of the web UI and API (manage them in the UI or the API; this is for recovery)");
  users
    .command("reset-password [username]")
    .description("give an account a new random password, printed once, end its sessions and revoke its API tokens (works on the home's database directly)")
    .action(async (username: string | undefined, _opts: unknown, command: Command) => {
      const config = await configFrom(command);
      const [{ Store }, { AuthService, FIRST_ADMIN, generatePassword }] = await Promise.all([import("../../store/index.js"), import("../../auth/index.js")]);
      const store = await Store.open({ url: config.databaseUrl });
      try {
        const auth = new AuthService(store);
        const name = username ?? FIRST_ADMIN;
        const password = generatePassword();
        await auth.updateUser(name, { password });
        if (globalOptions(command).json) printJson({ username: name, password });
        else process.stdout.write(`new password for ${name}: ${password}\n(it is not stored anywhere readable; sign in and change it under Account)\n`);
      } finally {
        await store.close();
      }
    });
}
