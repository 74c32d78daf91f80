/**
 * Writes the web UI's API types (web/src/api/openapi.gen.ts) from the OpenAPI document the server
 * makes from its zod schemas (see src/server/openapi-document.ts), with openapi-typescript. Run it
 * after changing a route's schemas: `npm run gen:api`. test/server/api-types.test.ts fails while
 * the file is stale.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString, type OpenAPI3 } from "openapi-typescript";
import { openApiDocument } from "../src/server/index.js";

/** Where the generated types live. */
export const API_TYPES_FILE = join(fileURLToPath(new URL("..", import.meta.url)), "web", "src", "api", "openapi.gen.ts");

const HEADER = `/**
 * The Capstan API's types, generated from its OpenAPI document (/api/openapi.json) by
 * scripts/gen-api.ts with openapi-typescript. Do not edit: change a route's zod schemas and run
 * \`npm run gen:api\`.
 */

`;

/** The text of the generated types file for an OpenAPI document. */
export async function renderApiTypes(document: Record<string, unknown>): Promise<string> {
  const ast = await openapiTS(document as unknown as OpenAPI3, { alphabetize: true, exportType: true });
  return HEADER + astToString(ast);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(API_TYPES_FILE, await renderApiTypes(await openApiDocument()));
  process.stdout.write(`wrote ${API_TYPES_FILE}\n`);
}
