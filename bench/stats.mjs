/** Summaries the benchmarks print: nearest-rank percentiles of samples, in ms with two decimals. */

/** The nearest-rank p-th percentile of `values` (any order); NaN for none. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A duration rounded to hundredths of a ms; null when not a number. */
export const ms = (v) => (Number.isFinite(v) ? Number(v.toFixed(2)) : null);

/** Count, min, p50, p99 and max of `values`. */
export const stats = (values) => ({ n: values.length, min: ms(percentile(values, 0)), p50: ms(percentile(values, 50)), p99: ms(percentile(values, 99)), max: ms(percentile(values, 100)) });
