// Lint rules that guard promise safety and the folder boundaries described in docs/architecture.md.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/**", "web/dist/**", "node_modules/**", ".capstan/**", ".venv/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "import-x/no-cycle": ["error", { maxDepth: 8 }],
    },
  },
  {
    // executors never know about HTTP; the server never builds a pod.
    files: ["src/executors/**/*.ts", "src/scheduler/**/*.ts", "src/store/**/*.ts", "src/pipelines/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/server/**", "**/cli/**", "fastify"], message: "engine code must not depend on the HTTP server or the CLI" }] }],
    },
  },
  {
    files: ["src/server/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/executors/kubernetes", "**/executors/kubernetes/**", "**/cli/**"], message: "the server reaches executors only through the scheduler's services" }] }],
    },
  },
  {
    // Every test runs: no focused or skipped tests, and no conditional skips (a test that cannot run here
    // fails with a message that says what is missing). Covers describe/it/test/suite/bench, their
    // modifier chains (it.concurrent.only, it.each([…]).skip) and ctx.skip().
    files: ["test/**/*.ts", "src/**/*.test.ts", "web/**/*.test.ts", "web/**/*.test.tsx"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[property.name=/^(only|skip|skipIf|runIf|todo)$/]:matches([object.name=/^(describe|it|test|suite|bench)$/], [object.object.name=/^(describe|it|test|suite|bench)$/], [object.callee.object.name=/^(describe|it|test|suite|bench)$/])",
          message: "tests must not be focused or skipped (.only, .skip, .skipIf, .runIf, .todo): every test runs in every environment",
        },
        {
          selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='skip'][callee.object.type='Identifier']:not([callee.object.name=/^(describe|it|test|suite|bench)$/])",
          message: "tests must not skip themselves at run time (ctx.skip()): fail with a message that says what is missing",
        },
      ],
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: globals.node },
  },
);
