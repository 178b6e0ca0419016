/** What a CLI command may touch: its streams, environment and a signal for Ctrl-C. Injected for tests. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean | undefined };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborts on Ctrl-C / SIGTERM. */
  readonly signal: AbortSignal;
}

export function line(stream: CliIo["stdout"], text: string): void {
  stream.write(`${text}\n`);
}
