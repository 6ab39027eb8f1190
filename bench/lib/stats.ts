/** The middle sample (upper middle for even counts): benchmarks here report medians, robust to the host's noise. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Rounds for the JSON summary line. */
export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));
