/**
 * The benchmarks' child processes: gateways (bench/gateway-server.mjs) and subscriber holders
 * (bench/gateway-subscribers.mjs), spoken to over IPC. Every child (and any other passed to killOnExit)
 * is SIGKILLed if the benchmark exits early, so no gateway or server is left listening.
 */
import { fork } from "node:child_process";

const children = new Set();
process.on("exit", () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** SIGKILLs `child` if the benchmark exits while it runs. */
export function killOnExit(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function forkChild(file, args, execArgv = []) {
  return killOnExit(fork(new URL(file, import.meta.url), args, { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] }));
}

/**
 * Starts a gateway (argv as bench/gateway-server.mjs reads it) and resolves once it listens, with what
 * it announced (url, instanceId, ...), the child, `ask(type)` (send a request, resolve with its answer;
 * `close` is answered by `closed`) and `exited`.
 */
export function forkGateway(args) {
  const child = forkChild("./gateway-server.mjs", args, ["--expose-gc"]);
  const waiting = new Map();
  let ready;
  const started = new Promise((resolve) => (ready = resolve));
  child.on("message", (message) => {
    if (message.type === "ready") ready(message);
    else waiting.get(message.type)?.(message);
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const ask = (type) =>
    new Promise((resolve) => {
      waiting.set(type === "close" ? "closed" : type, resolve);
      child.send({ type });
    });
  return started.then((info) => ({ ...info, child, ask, exited }));
}

/** A process holding subscribers' sockets: `send(message)`, `next(type)` (its next message of that type) and `exited`. */
export function forkSubscribers() {
  const child = forkChild("./gateway-subscribers.mjs", []);
  const waiting = new Map();
  child.on("message", (message) => {
    const resolve = waiting.get(message.type);
    waiting.delete(message.type);
    resolve?.(message);
  });
  return {
    next: (type) => new Promise((resolve) => waiting.set(type, resolve)),
    send: (message) => child.send(message),
    exited: new Promise((resolve) => child.once("exit", resolve)),
  };
}
