/** The names of the registry: model names (as TorchServe serves them) and alias names. */
import { InvalidRequestError } from "../scheduler/index.js";

/** A model name: what `capstan serve` and TorchServe put in /predictions/NAME. */
export const MODEL_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
/** An alias such as `staging` or `production`. */
export const ALIAS_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** Throws InvalidRequestError naming the field unless `name` is a model name. */
export function checkModelName(name: string): void {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw new InvalidRequestError(`name: ${JSON.stringify(name)} is not a model name; use a letter then up to 62 letters, digits, '_' or '-'`);
  }
}

/** Throws InvalidRequestError naming the field unless `alias` is an alias name. */
export function checkAliasName(alias: string): void {
  if (!ALIAS_PATTERN.test(alias)) {
    throw new InvalidRequestError(`alias: ${JSON.stringify(alias)} is not an alias name; use a lowercase letter then up to 31 lowercase letters, digits or '-' (e.g. staging, production)`);
  }
}
