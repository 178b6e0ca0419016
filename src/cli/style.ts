/**
 * Colour for people, never for scripts: only when the stream is a terminal, never with NO_COLOR
 * (https://no-color.org: set and not empty) or TERM=dumb. node:util's styleText does the escapes; we
 * decide per stream, since its own check looks at process.stdout whichever stream we write to.
 */
import { styleText } from "node:util";

export type Paint = (text: string) => string;

export interface Styles {
  readonly enabled: boolean;
  readonly green: Paint;
  readonly yellow: Paint;
  readonly red: Paint;
  readonly cyan: Paint;
  readonly dim: Paint;
  readonly bold: Paint;
}

type Format = Parameters<typeof styleText>[0];

export function colorEnabled(stream: { readonly isTTY?: boolean | undefined }, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

export function stylesFor(stream: { readonly isTTY?: boolean | undefined }, env: Readonly<Record<string, string | undefined>>): Styles {
  const enabled = colorEnabled(stream, env);
  const paint =
    (format: Format): Paint =>
    (text) =>
      enabled ? styleText(format, text, { validateStream: false }) : text;
  return {
    enabled,
    green: paint("green"),
    yellow: paint("yellow"),
    red: paint("red"),
    cyan: paint("cyan"),
    dim: paint("dim"),
    bold: paint("bold"),
  };
}
