/** Task logs: reading ranges and following a log live. */
export { followLog, readLogChunk, type FollowOptions, type LogChunk } from "./log-reader.js";
