/** Signalling process groups, and sets of processes until none is left. */
export { signalGroup, signalGroupOrProcess, signalUntilGone, type SignalUntilGoneOptions } from "./process-groups.js";
