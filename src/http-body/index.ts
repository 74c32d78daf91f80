/** Bounded reads of HTTP answers from servers Capstan does not control. */
export { readAtMost } from "./read-at-most.js";
