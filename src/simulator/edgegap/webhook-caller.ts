/**
 * The simulated Edgegap calling `webhook_on_*` URLs: one POST of the deployment's status body, no retry
 * (none is documented), a 10 s timeout; dropped or delayed by seeded faults.
 */
import type { Random } from "../random.js";

export interface WebhookFaults {
  /** Chance a webhook is never sent. Default 0. */
  dropRate?: number | undefined;
  /** Delay before sending, real ms: fixed or uniform in [min, max]. Default 0. */
  delayMs?: number | readonly [number, number] | undefined;
}

/** Webhooks by outcome. */
export interface WebhookCounts {
  /** POSTs made (forged ones included). */
  readonly sent: number;
  /** Answered 2xx. */
  readonly delivered: number;
  /** Answered otherwise, refused or timed out. */
  readonly failed: number;
  /** Dropped by the `dropRate` fault. */
  readonly dropped: number;
  /** Sent by `forgeWebhook`. */
  readonly forged: number;
}

const WEBHOOK_TIMEOUT_MS = 10_000;

export class WebhookCaller {
  faults: WebhookFaults = {};
  readonly #random: Random;
  readonly #pending = new Set<Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #counts = { sent: 0, delivered: 0, failed: 0, dropped: 0, forged: 0 };
  #closed = false;
  /** Real time (performance.now()) of each webhook POST, by request id and event, for benchmarks. */
  readonly sentAt = new Map<string, number>();

  constructor(random: Random) {
    this.#random = random;
  }

  get counts(): WebhookCounts {
    return { ...this.#counts };
  }

  /** Calls `url` once with `body`, after the delay fault, unless dropped (a forged call is never dropped). */
  call(url: string, body: unknown, key: string, forged = false): void {
    if (this.#closed) return;
    if (forged) this.#counts.forged++;
    else if (this.#random.chance(this.faults.dropRate ?? 0)) {
      this.#counts.dropped++;
      return;
    }
    const delay = this.faults.delayMs;
    const delayMs = delay === undefined ? 0 : typeof delay === "number" ? delay : Math.round(this.#random.uniform(delay[0], delay[1]));
    if (delayMs <= 0) {
      this.#post(url, body, key);
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#post(url, body, key);
    }, delayMs);
    this.#timers.add(timer);
  }

  #post(url: string, body: unknown, key: string): void {
    if (this.#closed) return;
    this.#counts.sent++;
    this.sentAt.set(key, performance.now());
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), WEBHOOK_TIMEOUT_MS);
    const sending: Promise<void> = fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: controller.signal, redirect: "error" })
      .then(
        async (response) => {
          await response.body?.cancel();
          if (response.ok) this.#counts.delivered++;
          else this.#counts.failed++;
        },
        () => {
          // No retry: Edgegap documents none, and a lost webhook must cost the watcher nothing.
          this.#counts.failed++;
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.#pending.delete(sending);
      });
    this.#pending.add(sending);
  }

  /** Cancels delayed webhooks and waits for those in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
