/**
 * Exact money arithmetic for CEB decimals. Every amount has at most 5 fraction digits (the schema
 * guarantees it), so scaling by 10^5 into BigInt makes sums and comparisons exact; floats would make
 * `0.1 + 0.2 !== 0.3` reject honest orders.
 */

const SCALE = 100_000n;

/** Amount → integer count of 0.00001 units. Exact for any number with ≤ 5 fraction digits. */
export function toUnits(amount: number): bigint {
  const fixed = amount.toFixed(5);
  const negative = fixed.startsWith('-');
  const [whole = '0', fraction = '00000'] = fixed.replace('-', '').split('.');
  const units = BigInt(whole) * SCALE + BigInt(fraction);
  return negative ? -units : units;
}

/** Integer count of 0.00001 units → amount. */
export function fromUnits(units: bigint): number {
  return Number(units) / 100_000;
}

/** Σ amounts, exact. */
export function sumExact(amounts: readonly number[]): number {
  return fromUnits(amounts.reduce((acc, a) => acc + toUnits(a), 0n));
}

/** price × qty exactly, in units of 10^-10 (both factors have ≤ 5 fraction digits). */
export function productUnits10(price: number, qty: number): bigint {
  return toUnits(price) * toUnits(qty);
}

/** Rounds half away from zero to `digits` fraction digits, immune to binary noise such as 1.005. */
export function roundTo(amount: number, digits: number): number {
  const factor = 10 ** digits;
  const shifted = Number((Math.abs(amount) * factor).toPrecision(15));
  return (Math.sign(amount) * Math.round(shifted)) / factor;
}

/** Formats for messages: up to 5 fraction digits, no exponent. */
export function formatAmount(amount: number): string {
  return String(roundTo(amount, 5));
}
