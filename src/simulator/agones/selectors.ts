/**
 * Label and field selectors as the apiserver parses them for a custom resource: labels with
 * `=`, `==`, `!=`, `in`, `notin`, `key` and `!key`; fields only `metadata.name` and
 * `metadata.namespace` (the GameServer CRD declares no selectableFields), with `=`, `==`, `!=`.
 * Pure: a parse error is a message the router answers 400 with.
 */

export type Requirement =
  | { readonly op: "eq" | "neq"; readonly key: string; readonly value: string }
  | { readonly op: "in" | "notin"; readonly key: string; readonly values: readonly string[] }
  | { readonly op: "exists" | "absent"; readonly key: string };

/** Every requirement must hold (the empty selector matches everything). */
export type Selector = readonly Requirement[];

export type ParseResult = { readonly ok: true; readonly selector: Selector } | { readonly ok: false; readonly message: string };

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(|[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") {
      depth--;
      if (depth < 0) return undefined;
    } else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  parts.push(text.slice(start));
  return parts;
}

function parseLabelRequirement(raw: string): Requirement | string {
  const text = raw.trim();
  const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(text);
  if (setMatch !== null) {
    const [, key = "", op, list = ""] = setMatch;
    const values = list.split(",").map((v) => v.trim());
    if (!KEY.test(key)) return `invalid label key "${key}"`;
    const bad = values.find((v) => !VALUE.test(v));
    if (bad !== undefined) return `invalid label value: "${bad}"`;
    return { op: op === "in" ? "in" : "notin", key, values };
  }
  const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(text);
  if (cmp !== null) {
    const [, key = "", op, value = ""] = cmp;
    if (!KEY.test(key)) return `invalid label key "${key}"`;
    if (!VALUE.test(value.trim())) return `invalid label value: "${value}"`;
    return { op: op === "!=" ? "neq" : "eq", key, value: value.trim() };
  }
  const negated = text.startsWith("!");
  const key = negated ? text.slice(1).trim() : text;
  if (!KEY.test(key)) return `unable to parse requirement: "${text}"`;
  return { op: negated ? "absent" : "exists", key };
}

export function parseLabelSelector(text: string | null | undefined): ParseResult {
  if (text === null || text === undefined || text.trim() === "") return { ok: true, selector: [] };
  const parts = splitTopLevel(text);
  if (parts === undefined) return { ok: false, message: `unable to parse requirement: unbalanced parentheses in "${text}"` };
  const selector: Requirement[] = [];
  for (const part of parts) {
    const requirement = parseLabelRequirement(part);
    if (typeof requirement === "string") return { ok: false, message: requirement };
    selector.push(requirement);
  }
  return { ok: true, selector };
}

/** Fields every custom resource can be selected on. */
export const SELECTABLE_FIELDS = ["metadata.name", "metadata.namespace"] as const;

export function parseFieldSelector(text: string | null | undefined): ParseResult {
  if (text === null || text === undefined || text.trim() === "") return { ok: true, selector: [] };
  const selector: Requirement[] = [];
  for (const part of text.split(",")) {
    const match = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (match === null) return { ok: false, message: `invalid selector: '${text}'; can't understand '${part.trim()}'` };
    const [, key = "", op, value = ""] = match;
    if (!(SELECTABLE_FIELDS as readonly string[]).includes(key)) {
      return { ok: false, message: `"${key}" is not a known field selector: only "metadata.name", "metadata.namespace"` };
    }
    selector.push({ op: op === "!=" ? "neq" : "eq", key, value });
  }
  return { ok: true, selector };
}

/** Whether `values` (labels, or selectable fields by path) satisfy every requirement. */
export function matches(selector: Selector, values: Readonly<Record<string, string>>): boolean {
  return selector.every((r) => {
    const has = Object.hasOwn(values, r.key);
    const value = has ? values[r.key] : undefined;
    switch (r.op) {
      case "eq":
        return value === r.value;
      case "neq":
        return value !== r.value;
      case "in":
        return value !== undefined && r.values.includes(value);
      case "notin":
        return value === undefined || !r.values.includes(value);
      case "exists":
        return has;
      case "absent":
        return !has;
      default: {
        const unreachable: never = r;
        throw new Error(`unknown requirement ${JSON.stringify(unreachable)}`);
      }
    }
  });
}
