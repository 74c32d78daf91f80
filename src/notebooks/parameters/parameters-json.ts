/**
 * The parameters file of a notebook task (`parameters.json`, read by `capstan notebook run -f`):
 * JSON in the parameters' own order, where a {@link PyFloat} is written as a float (`1.0`), so a
 * pipeline param declared `number` reaches the notebook as a float, as papermill gives it.
 */
import { PyFloat, pyFloatJson } from "../values/py-float.js";

/** Writes notebook parameters as JSON; PyFloat values keep their decimal point. */
export function parametersJson(value: unknown): string {
  if (value instanceof PyFloat) return pyFloatJson(value.value);
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : parametersJson(item))).join(",")}]`;
  if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    const items = Object.entries(value).filter(([, item]) => item !== undefined && typeof item !== "function");
    return `{${items.map(([key, item]) => `${JSON.stringify(key)}:${parametersJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
