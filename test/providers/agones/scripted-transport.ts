/** An AgonesTransport driven by the test: lists answer from a queue, each watch is a stream the test feeds. */
import type { AgonesTransport } from "../../../src/providers/agones/transport.js";

export function gameServer(name: string, state: string | undefined, extra: { rv?: string; ports?: unknown; address?: string; labels?: Record<string, string> } = {}) {
  return {
    apiVersion: "agones.dev/v1",
    kind: "GameServer",
    metadata: { name, namespace: "default", resourceVersion: extra.rv ?? "1", labels: extra.labels },
    spec: { ports: [{ name: "game", portPolicy: "Dynamic", containerPort: 7654, hostPort: 7001, protocol: "UDP" }] },
    status: state === undefined ? undefined : { state, address: extra.address ?? "10.0.0.1", ports: extra.ports ?? [{ name: "game", port: 7001 }], addresses: null },
  };
}

export function list(rv: string, items: unknown[]) {
  return { apiVersion: "agones.dev/v1", kind: "GameServerList", metadata: { resourceVersion: rv }, items };
}

export class WatchStream {
  readonly #queue: Array<{ value: unknown } | { end: true } | { error: unknown }> = [];
  #wake: (() => void) | undefined;
  aborted = false;

  constructor(
    readonly resourceVersion: string,
    readonly timeoutSeconds: number,
    readonly signal: AbortSignal,
  ) {
    signal.addEventListener("abort", () => {
      this.aborted = true;
      this.#wake?.();
    });
  }

  push(...values: unknown[]): void {
    for (const value of values) this.#queue.push({ value });
    this.#wake?.();
  }
  end(): void {
    this.#queue.push({ end: true });
    this.#wake?.();
  }
  fail(error: unknown): void {
    this.#queue.push({ error });
    this.#wake?.();
  }

  async *iterate(): AsyncGenerator<unknown> {
    for (;;) {
      if (this.signal.aborted) throw this.signal.reason;
      const next = this.#queue.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      if ("end" in next) return;
      if ("error" in next) throw next.error;
      yield next.value;
    }
  }
}

export class ScriptedTransport implements AgonesTransport {
  readonly server = "https://k8s.test:6443";
  readonly calls: string[] = [];
  readonly watches: WatchStream[] = [];
  readonly listAnswers: Array<unknown> = [];

  /** Queues the next list's answer: a body, or an Error to throw. */
  answerList(answer: unknown): this {
    this.listAnswers.push(answer);
    return this;
  }

  list(namespace: string, signal: AbortSignal): Promise<unknown> {
    this.calls.push(`list ${namespace}`);
    const answer = this.listAnswers.shift();
    if (answer === undefined) return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error)));
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }

  watch(namespace: string, resourceVersion: string, timeoutSeconds: number, signal: AbortSignal): AsyncIterable<unknown> {
    this.calls.push(`watch ${namespace} rv=${resourceVersion}`);
    const stream = new WatchStream(resourceVersion, timeoutSeconds, signal);
    this.watches.push(stream);
    return stream.iterate();
  }

  get lastWatch(): WatchStream {
    const last = this.watches.at(-1);
    if (last === undefined) throw new Error("no watch yet");
    return last;
  }
}
