// @ts-check
import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import globals from "globals";
import tseslint from "typescript-eslint";

/**
 * The layers of src/, lowest first. A file may import its own folder and any lower layer, never a
 * higher one; folders of one layer do not import each other. See docs/development.md.
 */
const LAYERS = [
  ["core"],
  ["protocol"],
  ["providers", "sources"],
  ["watch"],
  ["gateway", "simulator"],
  ["demo"],
  ["cli"],
];

/** no-restricted-paths zones: each folder may not import from any folder above it or beside it. */
const layerZones = LAYERS.flatMap((layer, rank) =>
  layer.map((folder) => ({
    target: `./src/${folder}`,
    from: LAYERS.flatMap((other, otherRank) =>
      other.filter((name) => name !== folder && otherRank >= rank).map((name) => `./src/${name}`),
    ),
    message: `src/${folder} may import only itself and the layers below it (see LAYERS in eslint.config.js)`,
  })),
).filter((zone) => zone.from.length > 0);

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "docs/api/", "bench/results/", ".redis/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/only-throw-error": "error",
      // Aborts reject with signal.reason, whatever the caller put there (as fetch and p-retry do).
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingAny: true, allowThrowingUnknown: true }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      // import-x's own TypeScript settings (which parser reads a dependency, which extensions count),
      // with the TypeScript resolver, so `./x.js` specifiers find `./x.ts`.
      ...importX.flatConfigs.typescript.settings,
      "import-x/resolver": undefined,
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
    },
    rules: {
      "import-x/no-cycle": "error",
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            ...layerZones,
            // The core entry runs anywhere fetch does: nothing Node-only, nothing of the gateway or simulator.
            {
              target: "./src/index.ts",
              from: ["./src/gateway", "./src/simulator", "./src/demo", "./src/cli", "./src/providers/hathora/sdk-source.ts", "./src/providers/agones"],
              message: "the core entry is isomorphic: the gateway, the simulator, the SDK and Agones have entries of their own",
            },
          ],
        },
      ],
    },
  },
  {
    // Asymmetric matchers (expect.any, expect.objectContaining) are typed `any` by vitest.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-unsafe-assignment": "off", "@typescript-eslint/no-unsafe-argument": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  {
    // Scripts that run in a page: the dashboard's, and the browser example's.
    files: ["src/gateway/dashboard/assets/*.js", "examples/browser/app.js"],
    languageOptions: { globals: globals.browser },
  },
);
