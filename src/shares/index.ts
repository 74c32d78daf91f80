/** Share links of volume files and folders: unguessable ids, lifetimes, and the proof that a browser gave a link's password. */
export { newShareId, SHARE_ID_PATTERN } from "./share-id.js";
export { DEFAULT_SHARE_LIFETIME_MS, MAX_SHARE_LIFETIME_MS, shareExpiry } from "./share-expiry.js";
export { UNLOCK_LIFETIME_MS, unlockToken, validUnlockToken } from "./share-unlock.js";
