/** Known distributions of time to active, for the tests of what is learned from them. */
import { normal } from "./prng.js";

/** Standard normal CDF (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
export function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.327_591_1 * x);
  const erf = 1 - ((((1.061_405_429 * t - 1.453_152_027) * t + 1.421_413_741) * t - 0.284_496_736) * t + 0.254_829_592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export interface Distribution {
  readonly name: string;
  readonly draw: (random: () => number) => number;
  readonly cdf: (ms: number) => number;
}

export const logNormal = (medianMs: number, sigma: number): Distribution => ({
  name: `log-normal, median ${medianMs} ms, sigma ${sigma}`,
  draw: (random) => medianMs * Math.exp(sigma * normal(random)),
  cdf: (ms) => (ms <= 0 ? 0 : phi(Math.log(ms / medianMs) / sigma)),
});
