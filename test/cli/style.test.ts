/** When the CLI colours: a terminal, and neither NO_COLOR (set, not empty) nor TERM=dumb. */
import { describe, expect, it } from "vitest";
import { colorEnabled, stylesFor } from "../../src/cli/style.js";

describe("colorEnabled", () => {
  it.each([
    { isTTY: true, env: {}, expected: true },
    { isTTY: false, env: {}, expected: false },
    { isTTY: undefined, env: {}, expected: false },
    { isTTY: true, env: { NO_COLOR: "1" }, expected: false },
    { isTTY: true, env: { NO_COLOR: "0" }, expected: false },
    { isTTY: true, env: { NO_COLOR: "" }, expected: true },
    { isTTY: true, env: { TERM: "dumb" }, expected: false },
    { isTTY: true, env: { TERM: "xterm-256color" }, expected: true },
    { isTTY: false, env: { FORCE_COLOR: "1" }, expected: false },
  ])("isTTY $isTTY, env $env: $expected", ({ isTTY, env, expected }) => {
    expect(colorEnabled({ isTTY }, env)).toBe(expected);
  });
});

describe("stylesFor", () => {
  it("paints on a terminal, whatever process.stdout is", () => {
    const styles = stylesFor({ isTTY: true }, {});
    expect(styles.enabled).toBe(true);
    expect(styles.green("ok")).toBe("\u001b[32mok\u001b[39m");
    expect(styles.red("no")).toBe("\u001b[31mno\u001b[39m");
    expect(styles.dim("…")).toBe("\u001b[2m…\u001b[22m");
  });

  it("returns the text untouched otherwise", () => {
    const styles = stylesFor({ isTTY: true }, { NO_COLOR: "1" });
    expect(styles.enabled).toBe(false);
    for (const paint of [styles.green, styles.yellow, styles.red, styles.cyan, styles.dim, styles.bold]) expect(paint("text")).toBe("text");
  });
});
