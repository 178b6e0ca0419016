/**
 * Start-time distributions the schedule benchmarks draw rooms from, each a seeded draw and its CDF (the
 * truth the oracle plans on). `random` is a uniform source in [0, 1), mulberry32 in the benchmarks.
 */
/** A standard normal draw (Box–Muller) from two of `random`'s uniforms. */
export const normal = (random) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
/** Standard normal CDF (Abramowitz and Stegun 7.1.26). */
export function phi(z) {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
/** Log-normal start times: median `medianMs`, σ `sigma` in log-time. */
export const logNormal = (medianMs, sigma) => ({
  draw: (random) => medianMs * Math.exp(sigma * normal(random)),
  cdf: (ms) => (ms <= 0 ? 0 : phi(Math.log(ms / medianMs) / sigma)),
});
/** Start times uniform over [fromMs, toMs]. */
export const uniform = (fromMs, toMs) => ({
  draw: (random) => fromMs + (toMs - fromMs) * random(),
  cdf: (ms) => Math.min(1, Math.max(0, (ms - fromMs) / (toMs - fromMs))),
});
/** `a` with probability `weight`, else `b`. */
export const mixture = (weight, a, b) => ({
  draw: (random) => (random() < weight ? a.draw(random) : b.draw(random)),
  cdf: (ms) => weight * a.cdf(ms) + (1 - weight) * b.cdf(ms),
});
