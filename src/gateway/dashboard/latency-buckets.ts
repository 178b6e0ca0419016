/**
 * prom-client reports a histogram as cumulative `le` buckets, a sum and a count; a chart wants how
 * many fell in each bucket. Pure, so the dashboard reads the one histogram /metrics serves.
 */

/** One value of a prom-client metric, as `metric.get()` gives it. */
export interface MetricValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number | undefined>>;
  readonly metricName?: string | undefined;
}

export interface LatencyBucket {
  /** The bucket's upper bound in ms; null for the last (+Inf). */
  readonly leMs: number | null;
  /** Observations in this bucket alone (above the previous bound, at most this one). */
  readonly count: number;
}

export interface LatencyHistogram {
  readonly buckets: readonly LatencyBucket[];
  readonly count: number;
  readonly sumMs: number;
}

/** Per-bucket counts from a histogram in seconds named `name` (its `_bucket`, `_sum` and `_count` values). */
export function latencyHistogram(name: string, values: readonly MetricValue[]): LatencyHistogram {
  const cumulative: Array<{ readonly le: number; readonly total: number }> = [];
  let count = 0;
  let sumSeconds = 0;
  for (const value of values) {
    if (value.metricName === `${name}_bucket`) {
      const le = value.labels.le;
      cumulative.push({ le: le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), total: value.value });
    } else if (value.metricName === `${name}_count`) {
      count = value.value;
    } else if (value.metricName === `${name}_sum`) {
      sumSeconds = value.value;
    }
  }
  cumulative.sort((a, b) => a.le - b.le);
  let below = 0;
  const buckets = cumulative.map(({ le, total }) => {
    const bucket = { leMs: Number.isFinite(le) ? Math.round(le * 1_000_000) / 1000 : null, count: total - below };
    below = total;
    return bucket;
  });
  return { buckets, count, sumMs: Math.round(sumSeconds * 1_000_000) / 1000 };
}

/** The sum of a counter's values, by one label's value (`{ active: 3, ended: 1 }`). */
export function countsBy(label: string, values: readonly MetricValue[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) {
    const key = value.labels[label];
    if (key !== undefined) counts[String(key)] = (counts[String(key)] ?? 0) + value.value;
  }
  return counts;
}
