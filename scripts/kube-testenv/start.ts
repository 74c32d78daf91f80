/**
 * Starts the test control plane by hand and keeps it running until Ctrl-C: prints the kubeconfig
 * path, the contexts and where the component logs are. Run through start.sh.
 */
import { startKubeTestenv } from "../../test/support/kube-testenv.js";

const dir = process.argv[2];
const env = await startKubeTestenv(dir === undefined ? {} : { dir });
process.stdout.write(
  [
    `kube-testenv is running (API server ${env.server})`,
    `  export KUBECONFIG=${env.kubeconfigPath}`,
    `  contexts: ${env.contexts.cpu.name} (namespace ${env.contexts.cpu.namespace}), ` +
      `${env.contexts.gpu.name} (namespace ${env.contexts.gpu.namespace})`,
    `  nodes: ${env.nodes.cpu}, ${env.nodes.gpu}`,
    `  component logs: ${env.dir}/*.log; pod logs: ${env.logsDir}`,
    "Press Ctrl-C to stop.",
    "",
  ].join("\n"),
);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write("stopping kube-testenv\n");
  env.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
