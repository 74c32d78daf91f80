/** parseJavaProperties reads config.properties the way java.util.Properties does for the keys TorchServe uses. */
import { expect, it } from "vitest";
import { parseJavaProperties } from "./java-properties.js";

it("reads =, : and space separators, comments, continuations and escapes", () => {
  const props = parseJavaProperties("# comment\n! another\ninference_address=http://0.0.0.0:8080\nmodel_store : /models\nload_models all\nallowed_urls=a,\\\n  b\nkey\\ with\\ space=v\\u0041\n");
  expect(Object.fromEntries(props)).toEqual({ inference_address: "http://0.0.0.0:8080", model_store: "/models", load_models: "all", allowed_urls: "a,b", "key with space": "vA" });
});
