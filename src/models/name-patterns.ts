/** The registry's name patterns alone (no imports), so the pipeline file's checks can use them without the registry. */

/** A model name: what `capstan serve` and TorchServe put in /predictions/NAME. */
export const MODEL_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
/** An alias such as `staging` or `production`. */
export const ALIAS_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** What a model name may hold, for messages. */
export const MODEL_NAME_HINT = "a letter then up to 62 letters, digits, '_' or '-'";
/** What an alias may hold, for messages. */
export const ALIAS_HINT = "a lowercase letter then up to 31 lowercase letters, digits or '-' (e.g. staging, production)";
