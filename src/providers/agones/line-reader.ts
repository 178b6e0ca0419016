/**
 * Splits a byte stream into lines (a Kubernetes watch sends one JSON event per line). Pure: it is given
 * chunks and hands back the complete lines so far. A line longer than `maxLineBytes` is refused rather than
 * buffered without end.
 */
import { InvalidPayloadError } from "../../core/errors.js";

export class LineReader {
  readonly #decoder = new TextDecoder();
  readonly #maxLineChars: number;
  #pending = "";

  constructor(maxLineBytes: number) {
    this.#maxLineChars = maxLineBytes;
  }

  /** The lines this chunk completes (blank ones skipped). */
  push(chunk: Uint8Array): string[] {
    this.#pending += this.#decoder.decode(chunk, { stream: true });
    const parts = this.#pending.split("\n");
    this.#pending = parts.pop() ?? "";
    if (this.#pending.length > this.#maxLineChars) throw new InvalidPayloadError(`a watch event exceeds the ${this.#maxLineChars}-byte limit`);
    return parts.map((line) => line.trim()).filter((line) => line !== "");
  }

  /** What is left once the stream ends: a last line without its newline, if any. */
  end(): string[] {
    const rest = (this.#pending + this.#decoder.decode()).trim();
    this.#pending = "";
    return rest === "" ? [] : [rest];
  }
}
