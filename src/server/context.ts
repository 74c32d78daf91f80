/** What route modules get: the platform's services. Routes never reach executors or build pods. */
import type { Platform } from "../platform/index.js";

export interface ServerContext {
  platform: Platform;
}
