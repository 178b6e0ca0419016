/** `room-watcher demo`: run the demo scenario with live progress and print its summary. */
import { createLogUpdate } from "log-update";
import { ConfigError } from "../../core/errors.js";
import { type DemoProgress, type DemoResult, runDemoScenario } from "../../demo/demo.js";
import { percentile, table } from "../../demo/summary.js";
import { ExitCode } from "../exit-codes.js";
import { describeConnection } from "../format.js";
import { type CliIo, line } from "../io.js";
import { type Styles, stylesFor } from "../style.js";

export interface DemoCliOptions {
  /** Which provider's fake host. Default hathora. */
  provider?: string | undefined;
  seed: number;
  timeScale: number;
  json: boolean;
  /** Watch through an in-process gateway, the simulator sending readiness hints, its dashboard on. */
  gateway?: boolean | undefined;
  /** With `gateway`: once the demo is over, keep the gateway and its dashboard up until Ctrl-C. */
  keepOpen?: boolean | undefined;
}

export async function runDemo(options: DemoCliOptions, io: CliIo): Promise<number> {
  if (options.keepOpen === true && options.gateway !== true) throw new ConfigError("--keep-open keeps the gateway's dashboard up: it needs --gateway");
  const live = io.stdout.isTTY === true && !options.json && io.env.CI === undefined;
  const render = live ? createLogUpdate(io.stdout as NodeJS.WriteStream) : undefined;
  let lastWaitedFor = "";
  const onProgress = (p: DemoProgress): void => {
    if (render) {
      const counts = `starting ${p.counts.starting + p.counts.unknown} · active ${p.counts.active} · ended ${p.counts.terminated}`;
      const news = p.event === "waiting" ? `waiting for ${p.detail}` : `last: ${p.roomId} ${p.event} ${p.detail}`;
      render(`[${(p.elapsedMs / 1000).toFixed(1)}s] ${counts}   ${news}`);
      return;
    }
    if (options.json) return;
    if (p.event === "waiting") {
      // A log, not a live line: say what it waits for once, not at every tick of its countdown.
      const waitedFor = p.pending.map((r) => `${r.roomId}:${r.status}`).join(" ");
      if (waitedFor === lastWaitedFor) return;
      lastWaitedFor = waitedFor;
    }
    line(io.stdout, `[${(p.elapsedMs / 1000).toFixed(1).padStart(5)}s] ${p.event.padEnd(10)} ${p.event === "waiting" ? `for ${p.detail}` : `${p.roomId} (${p.kind}) ${p.detail}`}`);
  };
  // Said once the fake host is up, so a demo that cannot start says only why.
  const onStart = options.json ? undefined : (description: string): void => line(io.stdout, `room-watcher demo: ${description}`);
  // The URL carries the demo's own throwaway token (in the fragment, which browsers never send): printed,
  // as the only way to open the page. With --json the output is for a program, and the dashboard is gone
  // with the demo: only --keep-open says where it is, on stderr, so stdout stays one JSON document.
  const onDashboard = (url: string): void => {
    if (!options.json) line(io.stdout, `room-watcher demo: dashboard ${url}`);
    else if (options.keepOpen === true) line(io.stderr, `room-watcher demo: dashboard ${url}`);
  };
  const summarize = (result: DemoResult): void => {
    render?.done();
    if (options.json) line(io.stdout, JSON.stringify(summaryJson(result)));
    else line(io.stdout, `\n${summaryText(result, stylesFor(io.stdout, io.env))}`);
  };
  const holdOpen =
    options.keepOpen === true
      ? async (result: DemoResult): Promise<void> => {
          summarize(result);
          line(options.json ? io.stderr : io.stdout, "room-watcher demo: the dashboard stays up; Ctrl-C to stop");
          await new Promise<void>((resolve) => {
            if (io.signal.aborted) resolve();
            else io.signal.addEventListener("abort", () => resolve(), { once: true });
          });
        }
      : undefined;
  const result = await runDemoScenario({ provider: options.provider, seed: options.seed, timeScale: options.timeScale, onProgress, onStart, onDashboard, holdOpen, gateway: options.gateway });
  if (holdOpen === undefined) summarize(result);
  return result.timedOut || result.rooms.some((r) => !r.matches) ? ExitCode.ERROR : ExitCode.OK;
}

function stats(result: DemoResult) {
  const timesToActive = result.rooms.flatMap((r) => (r.timeToActiveMs === undefined ? [] : [r.timeToActiveMs]));
  const delays = result.rooms.flatMap((r) => (r.detectionDelayMs === undefined ? [] : [r.detectionDelayMs]));
  const requests = result.rooms.map((r) => r.requests);
  return {
    rooms: result.rooms.length,
    matching: result.rooms.filter((r) => r.matches).length,
    timeToActiveP50Ms: percentile(timesToActive, 50),
    timeToActiveP95Ms: percentile(timesToActive, 95),
    detectionDelayP50Ms: percentile(delays, 50),
    detectionDelayP95Ms: percentile(delays, 95),
    requestsPerRoom: requests.length === 0 ? 0 : Number((requests.reduce((a, b) => a + b, 0) / requests.length).toFixed(1)),
    elapsedMs: result.elapsedMs,
    timedOut: result.timedOut,
  };
}

function summaryJson(result: DemoResult) {
  return { ...stats(result), ...(result.gateway === undefined ? {} : { gateway: result.gateway }), results: result.rooms };
}

function summaryText(result: DemoResult, styles: Styles): string {
  const rows = result.rooms.map((r) => [
    r.roomId,
    r.kind,
    r.reported.status === "terminated" ? `terminated (${r.reported.reason ?? "?"}${r.reported.detail === undefined ? "" : `: ${r.reported.detail}`})` : `${r.reported.status}${r.reported.moved ? " (moved)" : ""}`,
    r.reported.connection === undefined ? "-" : describeConnection(r.reported.connection),
    r.truth.status === "active" ? `active ${describeConnection(r.truth.connection)}` : r.truth.status,
    r.timeToActiveMs === undefined ? "-" : String(r.timeToActiveMs),
    String(r.requests),
    r.matches ? "yes" : "NO",
  ]);
  const s = stats(result);
  const ms = (v: number | undefined) => (v === undefined ? "-" : `${v} ms`);
  return [
    table(["room", "kind", "reported", "connection", "simulator truth", "to active ms", "requests", "match"], rows),
    "",
    (s.matching === s.rooms && !s.timedOut ? styles.green : styles.red)(
      `rooms: ${s.rooms}, matching the simulator's truth: ${s.matching}/${s.rooms}${s.timedOut ? " (timed out)" : ""}`,
    ),
    `time to active (create -> active event): p50 ${ms(s.timeToActiveP50Ms)}, p95 ${ms(s.timeToActiveP95Ms)}`,
    `detection delay (simulator active -> event): p50 ${ms(s.detectionDelayP50Ms)}, p95 ${ms(s.detectionDelayP95Ms)}`,
    `requests to the host per room (a push source sends none): ${s.requestsPerRoom}; elapsed ${s.elapsedMs} ms`,
    ...(result.gateway === undefined
      ? []
      : [
          `through the gateway: ${result.gateway.upstreamRequests} upstream requests; readiness hints sent ${result.gateway.hints.sent}, accepted ${result.gateway.hints.accepted}, failed ${result.gateway.hints.failed}`,
        ]),
  ].join("\n");
}
