// Lint: typescript-eslint with type information, so promise misuse is caught.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "protos/gen/", "dist/", ".tmp/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.mjs", "scripts/*.mjs", "bin/*.js", "examples/*.mjs", "test/support/*.mjs", "src/admin/dashboard/*.js"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        // node:test's describe/it return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] }] },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/explicit-module-boundary-types": "off",
      "no-empty": ["error", { allowEmptyCatch: false }],
      complexity: ["warn", 15],
      "max-depth": ["warn", 4],
    },
  },
  {
    // The dashboard's browser script: plain JavaScript served as is.
    files: ["src/admin/dashboard/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { sourceType: "script", globals: { document: "readonly", EventSource: "readonly" } },
  },
  {
    files: ["**/*.mjs", "bin/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { console: "readonly", process: "readonly", Buffer: "readonly", setTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly" } },
  },
);
