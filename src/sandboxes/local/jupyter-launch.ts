/**
 * How a local sandbox's JupyterLab is started: its argv, its environment (nothing of Capstan's own
 * environment leaks in), and the per-sandbox Jupyter configuration file that holds the upstream
 * token and keeps that token out of the page JupyterLab serves to the browser.
 */
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { dirname } from "node:path";

/** The environment marker of a sandbox's processes (kernels and terminals inherit it), found through /proc. */
export function sandboxMarker(id: string): string {
  return `sandbox-${id}`;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for JupyterLab to bind). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const py = (value: string): string => JSON.stringify(value);

/** The Python configuration file of one sandbox's JupyterLab. */
export function jupyterConfig(options: { token: string; port: number; home: string }): string {
  return [
    "# Written by Capstan for one sandbox; it holds the sandbox's upstream token.",
    "c = get_config()  # noqa: F821",
    `c.IdentityProvider.token = ${py(options.token)}`,
    'c.ServerApp.ip = "127.0.0.1"',
    `c.ServerApp.port = ${options.port}`,
    "c.ServerApp.port_retries = 0",
    "c.ServerApp.open_browser = False",
    `c.ServerApp.root_dir = ${py(options.home)}`,
    "c.ServerApp.quit_button = False",
    // Capstan running as root runs local sandboxes as root too (docs/sandboxes.md says so); JupyterLab asks to be told.
    `c.ServerApp.allow_root = ${process.getuid?.() === 0 ? "True" : "False"}`,
    // JupyterLab writes the token into every page it serves; the browser never needs it, Capstan's proxy adds it.
    'c.ServerApp.tornado_settings = {"page_config_hook": lambda handler, page_config: {**page_config, "token": ""}}',
    // No calls to the internet from a sandbox's server: no update checks, news or extension catalogue.
    'c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"',
    "c.LabApp.news_url = None",
    'c.LabApp.extension_manager = "readonly"',
    "",
  ].join("\n");
}

/** The argv of JupyterLab from `python`'s environment. */
export function jupyterArgv(python: string, configFile: string): string[] {
  return [python, "-m", "jupyterlab", `--config=${configFile}`];
}

/**
 * The environment of a sandbox: HOME is its home, PATH starts with the venv's bin folder, and the
 * marker finds its processes; Capstan's own variables (database URL, tokens) are not passed on.
 */
export function sandboxEnv(options: { id: string; home: string; python: string; configDir: string; runtimeDir: string }): Record<string, string> {
  const keep = ["LANG", "LC_ALL", "TZ", "TERM"];
  const env: Record<string, string> = {};
  for (const key of keep) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  let user = "user";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry
  }
  return {
    ...env,
    HOME: options.home,
    USER: user,
    SHELL: "/bin/bash",
    PATH: `${dirname(options.python)}:/usr/local/bin:/usr/bin:/bin`,
    JUPYTER_CONFIG_DIR: options.configDir,
    JUPYTER_RUNTIME_DIR: options.runtimeDir,
    CAPSTAN_SANDBOX_ID: options.id,
    // The marker the local executor's /proc search knows (process-info.ts), reused for sandboxes.
    CAPSTAN_ATTEMPT_TOKEN: sandboxMarker(options.id),
  };
}
