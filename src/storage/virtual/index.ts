/** Volumes that are views made by the platform: a resolver's tree over mounted storages, a user's sandbox homes, run outputs. */
export { VirtualTreeStorage, type TreeChild, type TreeNode, type TreeResolver } from "./virtual-tree-storage.js";
export { homeVolumeName, homeVolumeStorage, isHomeVolumeName, type SandboxHome } from "./home-volume.js";
export { RUNS_VOLUME_NAME, runsVolumeStorage, type RunsSource, type RunTaskOutput } from "./runs-volume.js";
