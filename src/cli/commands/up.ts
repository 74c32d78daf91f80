/** `capstan up`: the scheduler, the HTTP API and the local executor in this process, in the foreground. */
import type { Command } from "commander";
import { join } from "node:path";
import type { CapstanConfig } from "../../config/index.js";
import type { LocalAccounts } from "../../auth/index.js";
import type { KernelPool } from "../../notebooks/index.js";
import type { Platform } from "../../wiring/index.js";
import type { DeploymentController } from "../../serving/deployments/index.js";
import { ClientError } from "../errors.js";
import { configFrom } from "../context.js";
import { LogMasking } from "../../secrets/index.js";

export function registerUpCommand(program: Command): void {
  program
    .command("up")
    .description("start the scheduler, the API and the UI in the foreground (logs on stderr; Ctrl-C stops it, running tasks are adopted at the next start)")
    .option("--port <port>", "HTTP port (0 picks a free one; default 8080 or server.port)")
    .option("--host <host>", "address to listen on (default 127.0.0.1)")
    .option("--no-watch", "do not reload pipeline files when they change")
    .action(async (opts: { port?: string; host?: string; watch: boolean }, command: Command) => {
      const port = opts.port === undefined ? undefined : Number(opts.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new ClientError(`--port ${opts.port}: expected a port number 0–65535`);
      const [{ default: pino }, { acquireSchedulerLock, capstanCommand, Platform, taskBaseEnv }, { buildServer }] = await Promise.all([import("pino"), import("../../wiring/index.js"), import("../../server/index.js")]);
      const config = await configFrom(command, { ...(port !== undefined ? { port } : {}), ...(opts.host ? { host: opts.host } : {}) });
      // Each line passes through the secrets' masking (attached when the platform opens).
      const logMasking = new LogMasking();
      const logger = pino(
        { level: process.env.CAPSTAN_LOG_LEVEL ?? "info", hooks: { streamWrite: logMasking.streamWrite } },
        process.stderr.isTTY ? pino.transport({ target: "pino-pretty", options: { destination: 2, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } }) : pino.destination(2),
      );
      const lock = /^postgres/.test(config.databaseUrl) ? undefined : acquireSchedulerLock(config.home, "up");
      let platform: Platform | undefined;
      let accounts: LocalAccounts | undefined;
      let kernelPool: KernelPoolHandle | undefined;
      let deployments: DeploymentController | undefined;
      const poolDir = join(config.home, "kernel-pool");
      try {
        platform = await Platform.open({ config, logger, logMasking, ...(config.notebooks.warmKernels > 0 ? { notebookEnv: { CAPSTAN_KERNEL_POOL_DIR: poolDir } } : {}) });
        const { startLocalAccounts } = await import("../../auth/index.js");
        accounts = await startLocalAccounts(platform, config.home, { loginLimits: config.server.loginLimits });
        const server = await buildServer({ platform, auth: accounts.auth }, { trustProxy: config.server.trustedProxies });
        const address = await server.listen({ port: config.server.port, host: config.server.host });
        const url = address.replace("[::1]", "localhost").replace("127.0.0.1", "localhost");
        // Scheduling starts once the server listens, so a busy port fails before anything runs.
        await platform.start({ watch: opts.watch });
        // Sandboxes idle past their profile's timeout are stopped by this server alone (not by CLI processes).
        platform.idleCuller.start();
        // Local deployments run as `capstan serve` replicas of this process, rolled when their alias moves.
        // Kubernetes deployments are applied to their cluster/namespace with the clusters of capstan.yaml.
        // (Kubernetes' client is loaded only when clusters are configured.)
        const { DeploymentController } = await import("../../serving/deployments/deployment-controller.js");
        const kube = Object.keys(config.clusters).length > 0 ? await import("../../executors/kubernetes/kube/index.js") : undefined;
        const clusters = kube && new kube.KubeClusters(kube.parseClusters(config.clusters, kube.clusterConfigSource(config.file)), new kube.RequestCounter());
        const KubeDeployments = clusters && (await import("../../serving/deployments/kube-target.js")).KubeDeployments;
        const { ModelStorage } = await import("../../models/index.js");
        const modelStorage = new ModelStorage({ home: config.home, volumes: platform.volumes, stores: config.modelStores });
        deployments = new DeploymentController({
          store: platform.store,
          home: config.home,
          command: capstanCommand(),
          env: { ...taskBaseEnv(), CAPSTAN_PYTHON: config.python },
          log: logger.child({ component: "deployments" }),
          kube: clusters && KubeDeployments && new KubeDeployments(clusters),
          archiveOf: (artifactPath, kind) => modelStorage.archive(artifactPath, kind),
        });
        deployments.start();
        // Warm kernels would run outside the tasks' boundary (see docs/security.md): tasks start their own.
        if (config.notebooks.warmKernels > 0 && platform.taskBoundary.active) logger.info("warm kernels are off while tasks run apart from the platform's home; notebook tasks start their kernels cold");
        else if (config.notebooks.warmKernels > 0) kernelPool = await startKernelPool(config, poolDir, taskBaseEnv(), (message) => logger.warn(message));
        const pool = kernelPool;
        if (pool) platform.metrics.readKernelPoolFrom(() => pool.status());
        lock?.update(url);
        logger.info({ url, home: config.home, pipelines: platform.registry.list().map((p) => p.spec.id), database: /^postgres/.test(config.databaseUrl) ? "postgresql" : config.databaseUrl }, "capstan is up");
        process.stderr.write(`Capstan is up at ${url} (home ${config.home})\n`);
        process.stderr.write(accounts.banner(url));
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
        logger.info("stopping; running tasks keep running and are adopted at the next start (a second signal stops at once)");
        const now = (signal: NodeJS.Signals) => {
          kernelPool?.killNow();
          process.exit(signal === "SIGINT" ? 130 : 143);
        };
        process.once("SIGINT", now);
        process.once("SIGTERM", now);
        await server.close();
      } finally {
        await accounts?.stop().catch((error: unknown) => logger.warn({ err: error }, "could not revoke the local CLI token"));
        await kernelPool?.stop();
        await deployments?.stop();
        await platform?.close();
        lock?.release();
      }
    });
}

/** What `capstan up` uses of its warm kernel pool. */
type KernelPoolHandle = Pick<KernelPool, "stop" | "killNow" | "status">;

/**
 * Keeps kernels of the configured kernelspecs started ahead of notebook tasks (each serves one run).
 * A pool that cannot start is reported and notebook tasks start their kernels cold.
 */
async function startKernelPool(config: CapstanConfig, dir: string, env: Record<string, string>, warn: (message: string) => void): Promise<KernelPoolHandle | undefined> {
  const { KernelPool } = await import("../../notebooks/index.js");
  const pool = new KernelPool({ dir, size: config.notebooks.warmKernels, kernelspecs: config.notebooks.kernelspecs, python: config.python, env, log: warn });
  try {
    await pool.start();
    return pool;
  } catch (error) {
    warn(`warm kernels are off: ${(error as Error).message}; notebook tasks start their kernels cold`);
    await pool.stop().catch(() => undefined);
    return undefined;
  }
}
