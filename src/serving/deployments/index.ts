/** Deployments made so: local `capstan serve` replicas run by `capstan up`, and Kubernetes Deployments + Services. */
export { DeploymentController, type ControllerLog, type DeploymentControllerOptions, type KubeDeploymentTarget } from "./deployment-controller.js";
export { LocalReplicaSet, type LocalReplicaOptions } from "./local-replicas.js";
export { KubeDeployments } from "./kube-target.js";
export { DEPLOYMENT_LABEL, deploymentObjects, kubeObjectName, SERVING_SECRET, VERSION_LABEL } from "./kube-manifests.js";
