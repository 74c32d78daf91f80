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
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/executors/kubernetes/**", "**/kube/**", "**/cli/**"], message: "the server reaches executors only through the scheduler's services" }] }],
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
