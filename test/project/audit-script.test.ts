/**
 * scripts/audit-production.sh, the CI step for `npm audit --omit=dev`, against a stand-in `npm` that
 * answers with a chosen report: it must fail CI on a high or critical advisory in the production
 * dependencies, pass on lesser ones, and say loudly when the registry cannot answer audits at all.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnChild } from "../helpers/cli-process.js";

const SCRIPT = fileURLToPath(new URL("../../scripts/audit-production.sh", import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rw-audit-"));
  // A stand-in npm: records its arguments, prints the report it is given, exits with the status it is given.
  await writeFile(join(dir, "npm"), '#!/bin/sh\nprintf "%s " "$@" > "$FAKE_NPM_ARGS"\ncat "$FAKE_NPM_REPORT"\nexit "$FAKE_NPM_STATUS"\n');
  await chmod(join(dir, "npm"), 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const counts = (over: Record<string, number>) => ({ info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0, ...over });

async function audit(name: string, report: string, npmStatus: number, env: Record<string, string> = {}) {
  const reportFile = join(dir, `${name}.json`);
  const argsFile = join(dir, `${name}.args`);
  await writeFile(reportFile, report);
  const run = spawnChild("bash", [SCRIPT], {
    env: { PATH: `${dir}${delimiter}${process.env.PATH ?? ""}`, FAKE_NPM_REPORT: reportFile, FAKE_NPM_STATUS: String(npmStatus), FAKE_NPM_ARGS: argsFile, ...env },
  });
  const result = await run.exited;
  return { ...result, npmArgs: (await readFile(argsFile, "utf8")).trim() };
}

describe.concurrent("scripts/audit-production.sh", () => {
  it("audits only the production dependencies, at the high level, as JSON", async () => {
    const result = await audit("args", JSON.stringify({ metadata: { vulnerabilities: counts({}) } }), 0);
    expect(result.npmArgs).toBe("audit --omit=dev --audit-level=high --json");
  });

  it.each([
    ["a high advisory", 1, 1, counts({ high: 1, total: 1 })],
    ["a critical advisory", 1, 1, counts({ critical: 2, moderate: 1, total: 3 })],
    ["only moderate and low ones", 0, 0, counts({ moderate: 1, low: 3, total: 4 })],
    ["none", 0, 0, counts({})],
  ])("%s: npm exits %i, the step exits %i, and prints the counts", async (name, npmStatus, expected, vulnerabilities) => {
    const result = await audit(name.replaceAll(" ", "-"), JSON.stringify({ auditReportVersion: 2, vulnerabilities: {}, metadata: { vulnerabilities } }), npmStatus);
    expect(result.code).toBe(expected);
    expect(result.stdout).toContain(`npm audit (production dependencies): ${JSON.stringify(vulnerabilities)}`);
  });

  it.each([
    ["a registry without the advisories endpoint", JSON.stringify({ message: "405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk" }), "405 Method Not Allowed"],
    ["an npm error object", JSON.stringify({ error: { code: "ENOTFOUND", summary: "request to registry failed" } }), "request to registry failed"],
    ["no JSON at all", "", "no output"],
  ])("%s: warns and goes on, but fails when an audit is required", async (name, report, why) => {
    const slug = name.replaceAll(" ", "-");
    const lenient = await audit(slug, report, 1);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain(`WARNING: npm audit could not run: ${why}`);
    const strict = await audit(`${slug}-strict`, report, 1, { ROOM_WATCHER_REQUIRE_AUDIT: "1" });
    expect(strict.code).toBe(1);
  });
});
