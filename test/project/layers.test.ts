/**
 * The layer rule fails on what it is there to catch: an upward import and a cycle. Runs ESLint with
 * the project's own config on real files of src/ given one extra import line.
 */
import { readFile } from "node:fs/promises";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;

async function importRuleErrors(file: string, extraImport: string): Promise<string[]> {
  // The project's config, without type information: the import rules need none, and building the typed
  // program of the whole project took over 20 s for the first file on a loaded machine.
  const eslint = new ESLint({ cwd: ROOT, overrideConfig: [tseslint.configs.disableTypeChecked], ruleFilter: ({ ruleId }) => ruleId.startsWith("import-x/") });
  const text = `${await readFile(new URL(`../../${file}`, import.meta.url), "utf8")}\n${extraImport}\n`;
  const [result] = await eslint.lintText(text, { filePath: `${ROOT}${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId?.startsWith("import-x/") === true).map((m) => `${m.ruleId}: ${m.message}`);
}

describe("the layer rule (eslint.config.js LAYERS)", () => {
  it("refuses an upward import: core may not import watch", async () => {
    const errors = await importRuleErrors("src/core/backoff.ts", 'export { Fleet } from "../watch/fleet.js";');
    // The fleet imports backoff too: the same line is a cycle as well.
    expect(errors).toContainEqual(expect.stringMatching(/^import-x\/no-restricted-paths: .*src\/core may import only itself and the layers below it/));
  });

  it("refuses a sideways import between folders of one layer: the gateway may not import the simulator", async () => {
    const errors = await importRuleErrors("src/gateway/limits.ts", 'export { Simulator } from "../simulator/simulator.js";');
    expect(errors).toEqual([expect.stringMatching(/^import-x\/no-restricted-paths: .*src\/gateway may import only itself/)]);
  });

  it("refuses the core entry anything Node-only", async () => {
    const errors = await importRuleErrors("src/index.ts", 'export { Gateway } from "./gateway/server.js";');
    expect(errors).toEqual([expect.stringMatching(/^import-x\/no-restricted-paths: .*the core entry is isomorphic/)]);
  });

  it("refuses a cycle: watch/options importing the fleet, which imports options", async () => {
    const errors = await importRuleErrors("src/watch/options.ts", 'import { Fleet } from "./fleet.js";\nexport const FLEET = Fleet;');
    expect(errors).toEqual([expect.stringMatching(/^import-x\/no-cycle: /)]);
  });

  it("allows a downward import", async () => {
    expect(await importRuleErrors("src/watch/options.ts", 'export { systemClock } from "../core/clock.js";')).toEqual([]);
  });
});
