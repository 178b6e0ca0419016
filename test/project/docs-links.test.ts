/**
 * Every relative link in README.md and docs/**\/*.md points to a file of the repository that exists, and a
 * `#fragment` to a heading of the Markdown file it names, as GitHub anchors headings. A moved page, a
 * renamed heading or a test file that moved breaks the build instead of the reader's click.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fencedBlocks, githubSlug, headingAnchors, isExternal, links } from "../helpers/markdown.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** README.md and every Markdown page under docs/, but not the generated API reference (docs/api, not committed). */
function documents(): string[] {
  const docs = readdirSync(join(ROOT, "docs"), { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".md") && !path.split(sep).includes("api"))
    .map((path) => join("docs", path))
    .sort();
  return ["README.md", ...docs];
}

/** What is wrong with one link of `file` (a path relative to ROOT), or undefined when it resolves. */
function brokenLink(file: string, target: string, read: (path: string) => string = (path) => readFileSync(path, "utf8")): string | undefined {
  if (isExternal(target)) return undefined;
  const hashAt = target.indexOf("#");
  const pathPart = decodeURIComponent(hashAt === -1 ? target : target.slice(0, hashAt));
  const fragment = hashAt === -1 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
  const absolute = pathPart === "" ? join(ROOT, file) : resolve(ROOT, dirname(file), pathPart);
  if (relative(ROOT, absolute).startsWith("..")) return "points outside the repository";
  if (!existsSync(absolute)) return `no such file: ${relative(ROOT, absolute)}`;
  if (fragment === undefined) return undefined;
  if (statSync(absolute).isDirectory() || !absolute.endsWith(".md")) return "a #fragment on something that is not a Markdown file";
  const anchors = headingAnchors(read(absolute));
  return anchors.has(fragment) ? undefined : `no heading #${fragment} in ${relative(ROOT, absolute)}`;
}

describe("the Markdown helpers the link check relies on", () => {
  it.each([
    ["Quick start", "quick-start"],
    ["Shared mode (Redis): several gateways as one", "shared-mode-redis-several-gateways-as-one"],
    ["`room-watcher demo --gateway`", "room-watcher-demo---gateway"],
    ["The gateway protocol: `room-watcher.v1`", "the-gateway-protocol-room-watcherv1"],
    ["What it promises under faults", "what-it-promises-under-faults"],
    ["Provider: the [Hathora](https://hathora.dev) rooms API", "provider-the-hathora-rooms-api"],
  ])("the heading %j is anchored #%s", (heading, slug) => {
    expect(githubSlug(heading)).toBe(slug);
  });

  it("anchors a repeated heading -1, -2, and takes no heading from a code block", () => {
    const markdown = "# A\n## Runs\n```sh\n# not a heading\n```\n## Runs\n### Runs\n";
    expect([...headingAnchors(markdown)]).toEqual(["a", "runs", "runs-1", "runs-2"]);
  });

  it("finds links in prose and reference definitions, not in code", () => {
    const markdown = [
      "See [the docs](docs/README.md) and [`x`](examples/x.mjs#top).",
      "Not `[a](b.md)` in a code span.",
      "```md",
      "[c](d.md)",
      "```",
      "[ref]: docs/cli.md",
    ].join("\n");
    expect(links(markdown)).toEqual([
      { target: "docs/README.md", line: 1 },
      { target: "examples/x.mjs#top", line: 1 },
      { target: "docs/cli.md", line: 6 },
    ]);
  });

  it("reports a missing file, a missing heading and a link out of the repository, and passes good ones", () => {
    expect(brokenLink("README.md", "docs/no-such-page.md")).toBe("no such file: docs/no-such-page.md");
    expect(brokenLink("README.md", "docs/README.md")).toBeUndefined();
    expect(brokenLink("docs/README.md", "../README.md#install")).toBeUndefined();
    expect(brokenLink("docs/README.md", "../README.md#no-such-heading")).toBe("no heading #no-such-heading in README.md");
    expect(brokenLink("docs/README.md", "../../elsewhere.md")).toBe("points outside the repository");
    expect(brokenLink("README.md", "https://example.com/x.md#y")).toBeUndefined();
    expect(brokenLink("README.md", "examples/wait-for-active.mjs#L3")).toBe("a #fragment on something that is not a Markdown file");
  });

  it("fences close only on a plain fence of the same kind", () => {
    const blocks = fencedBlocks("## S\n````md\n```js\nx\n```\n````\n```js\ny\n```\n");
    expect(blocks.map((b) => [b.lang, b.code, b.section])).toEqual([
      ["md", "```js\nx\n```\n", "S"],
      ["js", "y\n", "S"],
    ]);
  });
});

describe("relative links in README.md and docs/", () => {
  it("covers the README and every page of docs/", () => {
    expect(documents()).toEqual(expect.arrayContaining(["README.md", join("docs", "README.md"), join("docs", "protocol.md"), join("docs", "benchmarks.md")]));
  });

  it.each(documents())("every relative link in %s resolves", (file) => {
    const broken = links(readFileSync(join(ROOT, file), "utf8"))
      .map(({ target, line }) => ({ target, line, problem: brokenLink(file, target) }))
      .filter((link) => link.problem !== undefined)
      .map(({ target, line, problem }) => `${file}:${line} (${target}): ${problem ?? ""}`);
    expect(broken).toEqual([]);
  });
});
