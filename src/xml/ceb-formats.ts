import { randomUUID } from 'node:crypto';

/**
 * Value formats the CEB schemas prescribe. Each formatter returns the exact text to write or throws a
 * `CebFormatError` whose message says what is wrong (callers add the field path).
 *
 * Times are China Standard Time (UTC+8, no daylight saving): customs reads appTime/payTime as local
 * time in China, whatever zone the gateway host runs in.
 */

export class CebFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CebFormatError';
  }
}

const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

/** 36-character upper-case UUID, as the schemas require for every `guid`. */
export function newCebGuid(): string {
  return randomUUID().toUpperCase();
}

const GUID_RE = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
export function assertCebGuid(value: string): string {
  if (!GUID_RE.test(value))
    throw new CebFormatError(`guid must be 36 characters, upper-case UUID form, got "${value}"`);
  return value;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function toInstant(value: unknown): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new CebFormatError('invalid date');
    return value;
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    // An ISO instant without a zone is taken as China time, the zone the business data comes from.
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : value + '+08:00';
    const d = new Date(zoned);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new CebFormatError(`expected a date-time (Date, ISO 8601 or YYYYMMDDhhmmss), got ${JSON.stringify(value)}`);
}

function checkCalendar(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): boolean {
  const dt = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return (
    dt.getUTCFullYear() === y &&
    dt.getUTCMonth() === mo - 1 &&
    dt.getUTCDate() === d &&
    dt.getUTCHours() === h &&
    dt.getUTCMinutes() === mi &&
    dt.getUTCSeconds() === s
  );
}

/** YYYYMMDDhhmmss in China Standard Time. A 14-digit string is checked and kept as it is. */
export function formatCebDateTime(value: unknown): string {
  if (typeof value === 'string' && /^\d{14}$/.test(value)) {
    const n = (a: number, b: number) => Number(value.slice(a, b));
    if (!checkCalendar(n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14))) {
      throw new CebFormatError(`"${value}" is not a valid YYYYMMDDhhmmss time`);
    }
    return value;
  }
  const t = new Date(toInstant(value).getTime() + CST_OFFSET_MS);
  return (
    pad(t.getUTCFullYear(), 4) +
    pad(t.getUTCMonth() + 1, 2) +
    pad(t.getUTCDate(), 2) +
    pad(t.getUTCHours(), 2) +
    pad(t.getUTCMinutes(), 2) +
    pad(t.getUTCSeconds(), 2)
  );
}

/** YYYYMMDD (China date). Accepts 8 digits, YYYY-MM-DD (taken as the calendar date), or a date-time. */
export function formatCebDate(value: unknown): string {
  if (typeof value === 'string') {
    const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(value);
    if (m) {
      if (!checkCalendar(Number(m[1]), Number(m[2]), Number(m[3]))) {
        throw new CebFormatError(`"${value}" is not a valid calendar date`);
      }
      return `${m[1]}${m[2]}${m[3]}`;
    }
  }
  return formatCebDateTime(value).slice(0, 8);
}

const DECIMAL_RE = /^-?(\d+)(?:\.(\d+))?$/;

/**
 * xs:decimal as the schemas restrict it (totalDigits 19, fractionDigits 5): plain digits, never an
 * exponent, no trailing fraction zeros, "0" for zero. Numbers are rounded to 5 places only to remove
 * binary floating-point noise (0.1 + 0.2); a value that really has more than 5 fraction digits is an
 * error, not silently rounded — an amount must not change on its way to customs.
 */
export function formatCebDecimal(value: unknown, fractionDigits = 5, totalDigits = 19): string {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CebFormatError(`expected a finite number, got ${value}`);
    const rounded = Number(value.toFixed(fractionDigits));
    if (Math.abs(rounded - value) > 1e-9 * Math.max(1, Math.abs(value))) {
      throw new CebFormatError(`${value} has more than ${fractionDigits} fraction digits`);
    }
    if (Math.abs(value) >= 1e15) throw new CebFormatError(`${value} is too large to be written exactly`);
    text = rounded.toFixed(fractionDigits);
  } else if (typeof value === 'string' && DECIMAL_RE.test(value.trim())) {
    text = value.trim();
  } else {
    throw new CebFormatError(`expected a decimal number, got ${JSON.stringify(value)}`);
  }
  const m = DECIMAL_RE.exec(text) as RegExpExecArray;
  const negative = text.startsWith('-');
  const intPart = (m[1] as string).replace(/^0+(?=\d)/, '');
  const fracPart = (m[2] ?? '').replace(/0+$/, '');
  if (fracPart.length > fractionDigits) {
    throw new CebFormatError(`${text} has more than ${fractionDigits} fraction digits`);
  }
  const digits = (intPart === '0' ? '' : intPart).length + fracPart.length;
  if (digits > totalDigits) throw new CebFormatError(`${text} has more than ${totalDigits} digits`);
  const body = fracPart ? `${intPart}.${fracPart}` : intPart;
  return negative && body !== '0' ? '-' + body : body;
}

/** xs:int: a whole number within 32-bit range, written without sign or leading zeros for positives. */
export function formatCebInt(value: unknown): string {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new CebFormatError(`expected a whole number, got ${JSON.stringify(value)}`);
  if (n < -2147483648 || n > 2147483647) throw new CebFormatError(`${n} is outside the xs:int range`);
  return String(n);
}
