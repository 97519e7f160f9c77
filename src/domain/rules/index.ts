/**
 * Business rules an order must pass before any message is built or signed. Every rule is a pure
 * function of the order (plus reference data); all violations are reported together, never just the
 * first, so a merchant fixes an order in one round trip.
 */
import { parseBaygateOrder, type BaygateOrder } from '../order';
import { nonXmlText } from '../xml-text';
import { defaultCodeTables, defaultTaxRates } from '../reference-data';
import { checkArithmetic } from './arithmetic';
import { checkCodeTables } from './code-tables';
import { checkCurrency } from './currency';
import { checkHsCodes } from './hs-code';
import { checkIdentity } from './identity';
import { checkAnnualLimit, checkSingleLimit, type AnnualUsageLookup } from './limits';
import { checkStructure } from './structure';
import { checkTax } from './tax-rule';
import { checkThreeDocuments } from './three-documents';
import { checkTradeModeFields } from './trade-mode';
import { violation, type RuleViolation, type StaticRule, type StaticRuleDeps } from './types';

export type { RuleViolation, RuleCode, StaticRuleDeps } from './types';
export type { AnnualUsageLookup } from './limits';
export { ANNUAL_LIMIT, SINGLE_TRANSACTION_LIMIT, limitValue, limitYear } from './limits';
export { gb11643CheckChar, isValidGb11643, gb11643Problem } from './gb11643';
export { HALF_FEN, TAX_TOLERANCE } from './tax-rule';

/** The synchronous rules, in the order their violations are reported. */
export const staticRules: readonly StaticRule[] = [
  checkStructure,
  checkHsCodes,
  checkCodeTables,
  checkCurrency,
  checkArithmetic,
  checkTax,
  checkSingleLimit,
  checkIdentity,
  checkThreeDocuments,
  checkTradeModeFields,
];

export interface OrderRuleDeps extends Partial<StaticRuleDeps> {
  /** Needed for the 26,000 CNY annual limit of import orders. */
  annualUsage: AnnualUsageLookup;
}

function withDefaults(deps: Partial<StaticRuleDeps> = {}): StaticRuleDeps {
  return {
    codeTables: deps.codeTables ?? defaultCodeTables,
    taxRates: deps.taxRates ?? defaultTaxRates,
    now: deps.now ?? new Date(),
  };
}

/** Every rule except the annual limit (which needs the store). */
export function validateOrderStatic(order: BaygateOrder, deps: Partial<StaticRuleDeps> = {}): RuleViolation[] {
  const resolved = withDefaults(deps);
  return staticRules.flatMap((rule) => rule(order, resolved));
}

/**
 * Every rule, including the annual limit. Resolves to [] when the order may be declared. A failing
 * lookup rejects the promise: that is an infrastructure error, not a fact about the order.
 */
export async function validateOrder(order: BaygateOrder, deps: OrderRuleDeps): Promise<RuleViolation[]> {
  const violations = validateOrderStatic(order, deps);
  violations.push(...(await checkAnnualLimit(order, deps.annualUsage)));
  return violations;
}

export type CheckOrderResult =
  { ok: true; order: BaygateOrder } | { ok: false; order?: BaygateOrder; violations: RuleViolation[] };

/**
 * Untrusted input → parsed order + every violation. Text XML cannot carry comes back as XML_CHAR_INVALID
 * (any field: every one ends up in a customs message), shape problems as code "SCHEMA" (and the business
 * rules do not run, since they need a well-formed order).
 */
export async function checkOrder(input: unknown, deps: OrderRuleDeps): Promise<CheckOrderResult> {
  const unwritable = nonXmlText(input).map((t) =>
    violation(
      t.path,
      'XML_CHAR_INVALID',
      `含有 XML 不能承载的字符 ${t.codePoint}（第 ${t.index + 1} 个字符）`,
      `contains ${t.codePoint} at character ${t.index + 1}, which XML cannot carry`,
    ),
  );
  const parsed = parseBaygateOrder(input);
  if (!parsed.ok) {
    return {
      ok: false,
      violations: [
        ...unwritable,
        ...parsed.issues.map((issue) => violation(issue.path, 'SCHEMA', `格式错误：${issue.message}`, issue.message)),
      ],
    };
  }
  const violations = [...unwritable, ...(await validateOrder(parsed.order, deps))];
  return violations.length === 0 ? { ok: true, order: parsed.order } : { ok: false, order: parsed.order, violations };
}
