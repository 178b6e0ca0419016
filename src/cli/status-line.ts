/**
 * One line of live status on a terminal, rewritten in place and cleared when done, so what stays on
 * screen is the command's real output. Cut to the terminal's width: a wrapped line cannot be rewritten.
 */
import type { CliStream } from "./io.js";

const CLEAR_LINE = "\r\u001b[2K";
const DEFAULT_COLUMNS = 80;

export class StatusLine {
  readonly #stream: CliStream;
  #shown = false;

  constructor(stream: CliStream) {
    this.#stream = stream;
  }

  /** `plain` decides the cut (escape codes take no columns); `paint` styles what is shown. */
  show(plain: string, paint: (text: string) => string = (text) => text): void {
    const width = Math.max(10, (this.#stream.columns ?? DEFAULT_COLUMNS) - 1);
    const text = plain.length > width ? `${plain.slice(0, width - 1)}…` : plain;
    this.#stream.write(`${CLEAR_LINE}${paint(text)}`);
    this.#shown = true;
  }

  clear(): void {
    if (!this.#shown) return;
    this.#stream.write(CLEAR_LINE);
    this.#shown = false;
  }
}
