/**
 * The OpenAPI document's shared schemas: every zod schema with an id (`.meta({ id })`) becomes a
 * component, once for answers (`RunView`) and once for requests (`RunViewInput`). Request variants
 * that no operation refers to are left out, so the document and the types generated from it hold
 * each shape once.
 */
import { jsonSchemaTransformObject } from "fastify-type-provider-zod";

type TransformObject = typeof jsonSchemaTransformObject;

export const transformComponents: TransformObject = (document) => {
  const result = jsonSchemaTransformObject(document);
  if (!("components" in result) || !result.components?.schemas) return result;
  const components = result.components;
  const schemas = components.schemas;
  if (!schemas) return result;
  const text = JSON.stringify({ ...result, components: { ...components, schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => !name.endsWith("Input"))) } });
  // Request variants referred to from operations or from kept components stay (and what they refer to: repeat until stable).
  const kept = new Set(Object.keys(schemas).filter((name) => !name.endsWith("Input")));
  let referenced = text;
  for (;;) {
    const wanted = Object.keys(schemas).filter((name) => name.endsWith("Input") && !kept.has(name) && referenced.includes(`"#/components/schemas/${name}"`));
    if (wanted.length === 0) break;
    for (const name of wanted) kept.add(name);
    referenced = JSON.stringify(wanted.map((name) => schemas[name]));
  }
  for (const name of Object.keys(schemas)) if (!kept.has(name)) delete schemas[name];
  return result;
};
