/**
 * The built CLI as a child process (node + dist/cli/main.js, never a shell), any other child the
 * same way (an example, a shell script), and a recording
 * forwarder that tells a test when the CLI's requests have been answered, so tests wait for
 * events instead of sleeping.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createServer, request, type OutgoingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

export const CLI_PATH = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** Variables the CLI reads; a child never inherits them from the test's environment. */
const CLI_ENV_VARIABLES = ["HATHORA_APP_ID", "HATHORA_BASE_URL", "HATHORA_TOKEN", "EDGEGAP_TOKEN", "EDGEGAP_BASE_URL", "KUBECONFIG", "ROOM_WATCHER_WEBHOOK_SECRET", "SIMULATOR_TOKEN", "ROOM_WATCHER_REDIS_URL", "ROOM_WATCHER_GATEWAY_TOKEN", "ROOM_WATCHER_TICKET", "ROOM_WATCHER_TICKET_SECRET", "ROOM_WATCHER_TICKET_SECRET_PREVIOUS", "CI"] as const;

/** Longest a child may live unless told otherwise; then it is SIGKILLed and the test fails on its exit. */
export const DEFAULT_LIFETIME_MS = 10_000;

export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Settles once the process has exited and its streams are closed. Never rejects. */
  readonly exited: Promise<CliExit>;
  /** The first complete stdout line (past or future) that matches; rejects if the process ends first. */
  line(matches: (line: string) => boolean): Promise<string>;
  /** The same for stderr. */
  errorLine(matches: (line: string) => boolean): Promise<string>;
  /** Everything written to stdout so far (a process that keeps running never reaches `exited`). */
  stdoutSoFar(): string;
  /** Sends `signal` if the process is still running. */
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnCliOptions {
  /** Added to the parent's environment, minus the CLI's own variables. */
  env?: Readonly<Record<string, string>> | undefined;
  /** SIGKILL after this many ms. Default DEFAULT_LIFETIME_MS. */
  lifetimeMs?: number | undefined;
  /**
   * Run in a process group of its own and signal the whole group, as a terminal's Ctrl-C does (a shell
   * script and the commands it runs). Default false.
   */
  processGroup?: boolean | undefined;
}

const running = new Set<ChildProcessWithoutNullStreams>();

export function spawnCli(args: readonly string[], options: SpawnCliOptions = {}): CliProcess {
  return spawnChild(process.execPath, [CLI_PATH, ...args], options);
}

/** spawnCli for one test: the process is killed when the test ends, if it is still running. */
export function cliForTest(context: { onTestFinished(hook: () => Promise<void>): void }, args: readonly string[], options?: SpawnCliOptions): CliProcess {
  const run = spawnCli(args, options);
  context.onTestFinished(async () => {
    run.kill();
    await run.exited;
  });
  return run;
}

/** Any command as a child, watched like the CLI: same environment scrubbing, lifetime and line waits. */
export function spawnChild(command: string, args: readonly string[], options: SpawnCliOptions = {}): CliProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CLI_ENV_VARIABLES) delete env[name];
  Object.assign(env, options.env);
  const child = spawn(command, args, {
    env,
    detached: options.processGroup === true,
    stdio: ["pipe", "pipe", "pipe"],
    timeout: options.lifetimeMs ?? DEFAULT_LIFETIME_MS,
    killSignal: "SIGKILL",
  });
  running.add(child);
  child.stdin.end();

  const out = lineReader(child.stdout);
  const err = lineReader(child.stderr);

  const exited = new Promise<CliExit>((resolve) => {
    child.once("close", (code, signal) => {
      running.delete(child);
      const result: CliExit = { code, signal, stdout: out.text, stderr: err.text };
      const why = new Error(`the CLI exited (code ${String(code)}, signal ${String(signal)}) before the line; stdout: ${out.text} stderr: ${err.text}`);
      out.close(why);
      err.close(why);
      resolve(result);
    });
    // A failed spawn also emits 'close' (code -2 or similar); nothing else to do here.
    child.once("error", () => undefined);
  });

  return {
    child,
    exited,
    line: (matches) => out.line(matches),
    errorLine: (matches) => err.line(matches),
    stdoutSoFar: () => out.text,
    kill: (signal = "SIGKILL") => {
      if (options.processGroup === true && child.pid !== undefined) {
        // The group outlives its leader when a member is still running: signal it whatever the leader's state.
        try {
          process.kill(-child.pid, signal);
        } catch {
          // ESRCH: the whole group is gone.
        }
      } else if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
    },
  };
}

/** SIGKILLs every child spawnCli or spawnChild started that is still running; resolves once they are gone. */
export async function killAllCli(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
          }
          child.once("close", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
}

/** One request the forwarder answered. */
export interface Exchange {
  readonly method: string;
  /** Path and query as the client sent them. */
  readonly path: string;
  readonly authorization: string | undefined;
  readonly status: number;
  readonly body: string;
}

/**
 * An HTTP forwarder on 127.0.0.1 (port 0) in front of `targetUrl`: it relays each request, records
 * it once the answer has been written back, and tells whoever waits for it.
 */
export interface RecordingProxy {
  readonly url: string;
  readonly exchanges: readonly Exchange[];
  /** The first exchange (past or future) that matches. */
  next(matches: (exchange: Exchange) => boolean): Promise<Exchange>;
  close(): Promise<void>;
}

export async function startRecordingProxy(targetUrl: string): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  const waiters = new Set<{ matches: (exchange: Exchange) => boolean; resolve: (exchange: Exchange) => void }>();
  const record = (exchange: Exchange): void => {
    exchanges.push(exchange);
    for (const waiter of [...waiters]) {
      if (waiter.matches(exchange)) {
        waiters.delete(waiter);
        waiter.resolve(exchange);
      }
    }
  };
  const server: Server = createServer((req, res) => {
    const headers: OutgoingHttpHeaders = { ...req.headers };
    delete headers.host;
    const upstream = request(new URL(req.url ?? "/", targetUrl), { method: req.method, headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => chunks.push(chunk));
      answer.on("end", () => {
        const body = Buffer.concat(chunks);
        const status = answer.statusCode ?? 502;
        res.writeHead(status, answer.headers);
        res.end(body, () =>
          record({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization, status, body: body.toString("utf8") }),
        );
      });
      answer.on("error", () => res.destroy());
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    next: (matches) => {
      const seen = exchanges.find(matches);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<Exchange>((resolve) => {
        waiters.add({ matches, resolve });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A child's output stream, whole and as lines, with waits for a line that matches. */
function lineReader(stream: NodeJS.ReadableStream) {
  let text = "";
  let partial = "";
  let closed: Error | undefined;
  const lines: string[] = [];
  const waiters = new Set<{ matches: (line: string) => boolean; resolve: (line: string) => void; reject: (error: Error) => void }>();
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    text += chunk;
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.matches(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    }
  });
  return {
    get text(): string {
      return text;
    },
    line(matches: (line: string) => boolean): Promise<string> {
      const seen = lines.find(matches);
      if (seen !== undefined) return Promise.resolve(seen);
      if (closed !== undefined) return Promise.reject(new Error("the CLI has already exited"));
      return new Promise<string>((resolve, reject) => {
        waiters.add({ matches, resolve, reject });
      });
    },
    close(error: Error): void {
      closed = error;
      for (const waiter of waiters) waiter.reject(error);
      waiters.clear();
    },
  };
}
