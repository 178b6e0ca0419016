/**
 * Just enough Markdown for the docs tests: fenced code blocks (with the heading they sit under), the
 * anchors GitHub gives headings, and the relative links of the prose. Code is never prose: a `#` line in a
 * shell block is not a heading, and `[a](b)` in a code span is not a link.
 */

export interface FencedBlock {
  /** The info string's first word (`js`, `sh`, `text`), or "" when there is none. */
  readonly lang: string;
  /** The block's content, ending with a newline unless empty. */
  readonly code: string;
  /** The text of the nearest `##` heading above the block (undefined above the first one). */
  readonly section: string | undefined;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

export interface MarkdownLink {
  readonly target: string;
  /** 1-based line of the link. */
  readonly line: number;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;

interface Line {
  readonly text: string;
  readonly number: number;
  readonly inFence: boolean;
}

/** Every line, told whether it belongs to a fenced block (its fences included). */
function classify(markdown: string): Line[] {
  const lines: Line[] = [];
  let fence: string | undefined;
  markdown.split("\n").forEach((text, index) => {
    const match = FENCE.exec(text);
    if (fence === undefined) {
      if (match !== null) fence = match[1];
      lines.push({ text, number: index + 1, inFence: fence !== undefined });
      return;
    }
    lines.push({ text, number: index + 1, inFence: true });
    if (match !== null && match[1]?.[0] === fence[0] && (match[1]?.length ?? 0) >= fence.length && match[2] === "") fence = undefined;
  });
  return lines;
}

export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  let section: string | undefined;
  let open: { lang: string; line: number; fence: string; body: string[] } | undefined;
  markdown.split("\n").forEach((text, index) => {
    const match = FENCE.exec(text);
    if (open === undefined) {
      if (match !== null) {
        open = { lang: match[2] ?? "", line: index + 1, fence: match[1] ?? "```", body: [] };
        return;
      }
      const heading = HEADING.exec(text);
      if (heading?.[1] === "##") section = heading[2];
      return;
    }
    if (match !== null && match[1]?.[0] === open.fence[0] && (match[1]?.length ?? 0) >= open.fence.length && match[2] === "") {
      blocks.push({ lang: open.lang, code: open.body.length === 0 ? "" : `${open.body.join("\n")}\n`, section, line: open.line });
      open = undefined;
      return;
    }
    open.body.push(text);
  });
  return blocks;
}

/** Inline Markdown reduced to its text, as GitHub renders a heading before it makes the anchor. */
function plainText(inline: string): string {
  return inline
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`([^`]*)`/g, "$1")
    .replace(/<[^>]+>/g, "");
}

/** The anchor GitHub gives a heading's text (before de-duplication). */
export function githubSlug(heading: string): string {
  return plainText(heading)
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor the document's headings get, a repeated one suffixed `-1`, `-2`, ... as GitHub does. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of classify(markdown)) {
    if (line.inFence) continue;
    const heading = HEADING.exec(line.text);
    if (heading === null) continue;
    const slug = githubSlug(heading[2] ?? "");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Link targets in the prose (inline links, images and reference definitions), outside code. */
export function links(markdown: string): MarkdownLink[] {
  const found: MarkdownLink[] = [];
  for (const line of classify(markdown)) {
    if (line.inFence) continue;
    const prose = line.text.replace(/`[^`]*`/g, (span) => " ".repeat(span.length));
    for (const match of prose.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
      found.push({ target: match[1] ?? "", line: line.number });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(prose);
    if (definition !== null) found.push({ target: definition[1] ?? "", line: line.number });
  }
  return found;
}

/** Whether a link leaves the repository (a scheme such as https: or mailto:, or a protocol-relative URL). */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");
}
