import type { BaygateOrder } from '../order';
import { gb11643Problem } from './gb11643';
import { violation, type RuleViolation, type StaticRuleDeps } from './types';

const PROBLEM_TEXT = {
  format: {
    zh: '应为 17 位数字加 1 位校验码（数字或大写 X）',
    en: 'must be 17 digits and a check character (digit or upper-case X)',
  },
  'birth-date': {
    zh: '出生日期无效（非真实日期或早于 150 年前）',
    en: 'contains an impossible birth date (not a calendar date, or more than 150 years ago)',
  },
  'future-birth-date': { zh: '出生日期晚于今天', en: 'contains a birth date in the future' },
  'check-digit': { zh: '校验码错误（GB 11643）', en: 'has a wrong check character (GB 11643)' },
} as const;

/** Retail import buyers are identified by resident identity card (type "1") with a valid GB 11643 number. */
export function checkIdentity(order: BaygateOrder, deps: Pick<StaticRuleDeps, 'now'>): RuleViolation[] {
  if (order.direction !== 'import') return [];
  const out: RuleViolation[] = [];
  if (order.buyerIdType !== '1') {
    out.push(
      violation(
        'buyerIdType',
        'BUYER_ID_TYPE_NOT_ID_CARD',
        '订购人证件类型限定为身份证（1）',
        'buyerIdType must be "1" (resident identity card) for retail import',
      ),
    );
  }
  const checks: [string, '1' | '2', string][] = [
    ['buyerIdNumber', order.buyerIdType, order.buyerIdNumber],
    ['payment.payerIdNumber', order.payment.payerIdType, order.payment.payerIdNumber],
  ];
  for (const [path, type, number] of checks) {
    if (type !== '1') continue;
    const problem = gb11643Problem(number, deps.now);
    if (problem) {
      out.push(
        violation(
          path,
          'ID_NUMBER_INVALID',
          `身份证号码${PROBLEM_TEXT[problem].zh}`,
          `identity card number ${PROBLEM_TEXT[problem].en}`,
        ),
      );
    }
  }
  return out;
}
