/**
 * GB 11643-1999 citizen identity number check character (ISO 7064 MOD 11-2): 17 digits (6 area +
 * 8 birth date + 3 sequence) then a check character from "10X98765432".
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

/**
 * The oldest birth date taken as real: 150 years before the check date. No one alive is older, and the
 * standard's own example number (born 1880-01-01) stays valid for as long as the domain notes quote it.
 */
export const MAX_AGE_YEARS = 150;

const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

/** The check character for the first 17 digits of an ID number. */
export function gb11643CheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error('need exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARS[sum % 11] ?? '?';
}

export type IdNumberProblem = 'format' | 'birth-date' | 'future-birth-date' | 'check-digit';

/** YYYYMMDD of an instant in Beijing time (where the card was issued and the order is declared). */
function beijingDate(at: Date): string {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10).replace(/-/g, '');
}

/**
 * Why an identity card number is invalid, or null when it is valid. Lower-case "x" is not accepted. The
 * birth date (digits 7–14) must be a real calendar date, not after `today` (Beijing date) and not more
 * than MAX_AGE_YEARS before it.
 */
export function gb11643Problem(idNumber: string, today: Date = new Date()): IdNumberProblem | null {
  if (!/^\d{17}[\dX]$/.test(idNumber)) return 'format';
  const y = Number(idNumber.slice(6, 10));
  const m = Number(idNumber.slice(10, 12));
  const d = Number(idNumber.slice(12, 14));
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (birth.getUTCFullYear() !== y || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d) return 'birth-date';
  const todayYmd = beijingDate(today);
  const birthYmd = idNumber.slice(6, 14);
  if (birthYmd > todayYmd) return 'future-birth-date';
  const oldest = String(Number(todayYmd.slice(0, 4)) - MAX_AGE_YEARS).padStart(4, '0') + todayYmd.slice(4);
  if (birthYmd < oldest) return 'birth-date';
  if (gb11643CheckChar(idNumber.slice(0, 17)) !== idNumber[17]) return 'check-digit';
  return null;
}

export function isValidGb11643(idNumber: string, today?: Date): boolean {
  return gb11643Problem(idNumber, today) === null;
}
