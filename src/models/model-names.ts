/** The names of the registry: model names (as TorchServe serves them) and alias names. */
import { InvalidRequestError } from "../scheduler/index.js";
import { ALIAS_HINT, ALIAS_PATTERN, MODEL_NAME_HINT, MODEL_NAME_PATTERN } from "./name-patterns.js";

export { ALIAS_PATTERN, MODEL_NAME_PATTERN } from "./name-patterns.js";

/** Throws InvalidRequestError naming the field unless `name` is a model name. */
export function checkModelName(name: string): void {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw new InvalidRequestError(`name: ${JSON.stringify(name)} is not a model name; use ${MODEL_NAME_HINT}`);
  }
}

/** Throws InvalidRequestError naming the field unless `alias` is an alias name. */
export function checkAliasName(alias: string): void {
  if (!ALIAS_PATTERN.test(alias)) {
    throw new InvalidRequestError(`alias: ${JSON.stringify(alias)} is not an alias name; use ${ALIAS_HINT}`);
  }
}
