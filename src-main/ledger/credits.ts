/**
 * Amounts are integers of micro-credits (1 credit = 1 000 000), so sums over many receipts never drift the
 * way binary floats do. Conversions to credits happen once, at the edge (dashboard, CSV).
 */
export const MICRO_PER_CREDIT = 1_000_000;

/** Largest price a receipt may carry: 1000 credits per 1k tokens, so amount arithmetic stays exact. */
export const MAX_PRICE_PER_1K_MICRO = 1_000 * MICRO_PER_CREDIT;

/** A price in credits (as adverts carry it) to whole micro-credits, rounded to the nearest. */
export function creditsToMicro(credits: number): number {
  if (!Number.isFinite(credits) || credits < 0) throw new RangeError(`A price must be a finite non-negative number of credits, got ${credits}.`);
  return Math.round(credits * MICRO_PER_CREDIT);
}

/** For display only: sum in micro-credits first, convert the sum. */
export function microToCredits(micro: number): number {
  return micro / MICRO_PER_CREDIT;
}

/** Exact decimal text of a micro-credit amount ("12.000345"), for files people and spreadsheets read. */
export function formatMicroCredits(micro: number): string {
  const sign = micro < 0 ? "-" : "";
  const abs = Math.abs(micro);
  return `${sign}${Math.floor(abs / MICRO_PER_CREDIT)}.${String(abs % MICRO_PER_CREDIT).padStart(6, "0")}`;
}

/** What a receipt pays for `outputTokens` at `pricePer1kTokensMicro`: rounded down to whole micro-credits. */
export function receiptAmountMicro(outputTokens: number, pricePer1kTokensMicro: number): number {
  return Math.floor((outputTokens * pricePer1kTokensMicro) / 1000);
}
