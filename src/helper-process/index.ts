/** Helper processes spoken to in JSON lines (the process launcher, the kernel fork server). */
export { HelperProcess, type HelperExit, type HelperLog, type HelperMessage, type HelperProcessOptions } from "./helper-process.js";
