/** What a CLI command may touch: its streams, environment and a signal for Ctrl-C. Injected for tests. */
export interface CliStream {
  write(text: string): unknown;
  /** True on a terminal: colour and live progress are for people only. */
  isTTY?: boolean | undefined;
  /** Terminal width, when it is one. */
  columns?: number | undefined;
}

export interface CliIo {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborts on Ctrl-C / SIGTERM. */
  readonly signal: AbortSignal;
}

export function line(stream: CliStream, text: string): void {
  stream.write(`${text}\n`);
}
