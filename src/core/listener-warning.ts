/**
 * A listener that throws must not break the emitter that called it: its error is reported instead. On
 * Node as a process warning (code RW_LISTENER_THREW, which `--no-warnings` and `process.on("warning")`
 * handle as usual); where there is no `process` (a browser, an edge runtime), on the console.
 */
interface WarningProcess {
  emitWarning(message: string, options: { code: string }): void;
}

export function warnListenerThrew(eventName: string, error: unknown): void {
  const message = `room-watcher: a "${eventName}" listener threw: ${error instanceof Error ? error.message : String(error)}`;
  const host = (globalThis as { process?: Partial<WarningProcess> }).process;
  if (typeof host?.emitWarning === "function") host.emitWarning(message, { code: "RW_LISTENER_THREW" });
  else console.warn(message);
}
