import type { BaygateOrder } from '../domain/order';
import { checkOrder, type AnnualUsageLookup } from '../domain/rules';
import { mapSourceRecord, type SourceMapping } from '../mapping/source-mapper';
import type { OrderOutcome, SubmissionViolation, SubmitOptions } from './contracts';

/**
 * One submitted record → a valid Baygate order, or its rejection with every problem: the source format
 * (when the seller names one) maps it, the business rules check it, and the seller must declare for its
 * e-commerce company. Nothing is stored or reserved here.
 */
export type Rejected = Extract<OrderOutcome, { outcome: 'rejected' }>;
export type Valid = { index: number; order: BaygateOrder };

export const violation = (path: string, code: string, en: string, zh: string): SubmissionViolation => ({
  path,
  code,
  message: { zh, en },
});

export async function readOrder(
  input: unknown,
  index: number,
  options: SubmitOptions,
  deps: { sourceMappings: Map<string, SourceMapping>; sourceParams: Readonly<Record<string, number | string>> },
): Promise<Valid | Rejected> {
  const rejected = (violations: SubmissionViolation[], orderNo?: string): Rejected => ({
    index,
    orderNo,
    outcome: 'rejected',
    violations,
  });
  let candidate: unknown = input;
  if (options.source) {
    const mapping = deps.sourceMappings.get(options.source);
    if (!mapping)
      return rejected([
        violation(
          '',
          'SOURCE_UNKNOWN',
          `unknown source format "${options.source}"; known: ${[...deps.sourceMappings.keys()].join(', ')}`,
          `未知的来源格式 "${options.source}"`,
        ),
      ]);
    const mapped = mapSourceRecord(mapping, input, { params: deps.sourceParams });
    if (!mapped.ok)
      return rejected(
        mapped.issues.map((i) => violation(i.path, 'SOURCE_MAPPING', i.message, `来源格式转换错误：${i.message}`)),
        stringAt(mapped.draft, 'orderNo'),
      );
    candidate = mapped.order;
  }
  // The annual limit is enforced by an atomic reservation after validation (two gateways must not both
  // spend the same headroom), so the rule check itself sees no prior usage here.
  const noUsage: AnnualUsageLookup = { usedThisYear: async () => 0 };
  const checked = await checkOrder(candidate, { annualUsage: noUsage });
  if (!checked.ok) return rejected(checked.violations, checked.order?.orderNo ?? stringAt(candidate, 'orderNo'));
  const order = checked.order;
  if (!options.ebcCodes.includes(order.ebcCode))
    return rejected(
      [
        violation(
          'ebcCode',
          'EBC_NOT_YOURS',
          `this account may not declare for e-commerce company ${order.ebcCode}`,
          `本账户无权为电商企业 ${order.ebcCode} 申报`,
        ),
      ],
      order.orderNo,
    );
  return { index, order };
}

function stringAt(value: unknown, key: string): string | undefined {
  const x = (value as Record<string, unknown> | null)?.[key];
  return typeof x === 'string' ? x : undefined;
}
