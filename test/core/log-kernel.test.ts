/**
 * The histogram smoothed in log-time that the optimal schedule places its looks on.
 */
import { describe, expect, it } from "vitest";
import { logKernelCdf } from "../../src/core/log-kernel.js";

const EDGES = [0, 10, 11, 12.1, 13.31, 100, 110, 1_000, 1_100];

/** Mean and variance in log-time of the smoothed distribution, by summing over a fine log grid. */
function logMoments(cdf: (ms: number) => number, fromMs: number, toMs: number): { mean: number; variance: number } {
  const steps = 20_000;
  const a = Math.log(fromMs);
  const b = Math.log(toMs);
  let mass = 0;
  let first = 0;
  let second = 0;
  let previous = cdf(fromMs);
  for (let k = 1; k <= steps; k++) {
    const x = a + ((b - a) * k) / steps;
    const now = cdf(Math.exp(x));
    const dm = now - previous;
    const mid = x - (b - a) / steps / 2;
    mass += dm;
    first += dm * mid;
    second += dm * mid * mid;
    previous = now;
  }
  const mean = first / mass;
  return { mean, variance: second / mass - mean * mean };
}

describe("logKernelCdf", () => {
  it("spreads one bin's mass by a triangle centred on its geometric middle, √6 standard deviations wide", () => {
    const weights = [0, 0, 0, 0, 0, 0, 3, 0];
    const sigma = 0.1;
    const cdf = logKernelCdf({ edges: EDGES, weights }, sigma);
    const centre = Math.sqrt(110 * 1_000);
    const spread = Math.log(1_000 / 110) / Math.sqrt(12);
    const halfWidth = Math.sqrt(6) * Math.sqrt(spread * spread + sigma * sigma);
    expect(cdf(centre)).toBeCloseTo(0.5, 12);
    expect(cdf(centre * Math.exp(-halfWidth) * 0.999)).toBe(0);
    expect(cdf(centre * Math.exp(halfWidth) * 1.001)).toBe(1);
    // Halfway out on either side: an eighth of the triangle's area lies beyond.
    expect(cdf(centre * Math.exp(-halfWidth / 2))).toBeCloseTo(0.125, 12);
    expect(cdf(centre * Math.exp(halfWidth / 2))).toBeCloseTo(0.875, 12);
  });

  it("keeps the histogram's mean in log-time and adds the kernel's variance to its own", () => {
    const weights = [0, 1, 2, 1, 0, 4, 0, 2];
    const sigma = 0.1;
    const cdf = logKernelCdf({ edges: EDGES, weights }, sigma);
    const total = weights.reduce((sum, w) => sum + w, 0);
    let mean = 0;
    let variance = 0;
    for (let bin = 0; bin < weights.length; bin++) if (weights[bin]! > 0) mean += (weights[bin]! * (Math.log(EDGES[bin]!) + Math.log(EDGES[bin + 1]!))) / 2 / total;
    for (let bin = 0; bin < weights.length; bin++) {
      if (weights[bin] === 0) continue;
      const lo = Math.log(EDGES[bin]!);
      const hi = Math.log(EDGES[bin + 1]!);
      const centre = (lo + hi) / 2;
      // Each bin's own spread (uniform over it in log-time) and the kernel's, added in quadrature.
      variance += (weights[bin]! * ((centre - mean) ** 2 + (hi - lo) ** 2 / 12 + sigma * sigma)) / total;
    }
    const measured = logMoments(cdf, 1, 10_000);
    expect(measured.mean).toBeCloseTo(mean, 4);
    expect(measured.variance).toBeCloseTo(variance, 4);
  });

  it("is a CDF: 0 at and below 0, never falling, 1 beyond all the mass; and 0 everywhere with no mass", () => {
    const cdf = logKernelCdf({ edges: EDGES, weights: [0.5, 0, 0, 1, 0, 0, 0, 2] }, 0.1);
    expect(cdf(0)).toBe(0);
    expect(cdf(-5)).toBe(0);
    let last = 0;
    for (let ms = 0.5; ms < 5_000; ms *= 1.01) {
      const value = cdf(ms);
      expect(value).toBeGreaterThanOrEqual(last);
      last = value;
    }
    expect(cdf(5_000)).toBe(1);
    // The bin from 0 is centred on the middle of its top half (5–10 ms), not on 0.
    expect(cdf(Math.sqrt(50))).toBeCloseTo(0.5 / 3.5 / 2, 12);
    expect(logKernelCdf({ edges: EDGES, weights: new Float64Array(8) }, 0.1)(1_000)).toBe(0);
  });
});
