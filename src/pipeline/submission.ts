import type { Logger } from 'pino';
import type { BaygateOrder } from '../domain/order';
import { declarationIdFor } from '../domain/declaration-id';
import { ANNUAL_LIMIT, checkOrder, limitValue, limitYear, type AnnualUsageLookup } from '../domain/rules';
import { EXPORT_MESSAGE_TYPES, type MessageType } from '../domain/message-types';
import { mapSourceRecord, type SourceMapping } from '../mapping/source-mapper';
import type { AnnualUsageStore, DeclarationStore, DeclarationView, NewDeclaration } from '../store/contracts';
import type { OrderOutcome, SubmissionService, SubmissionViolation, SubmitOptions, SubmitResult } from './contracts';

/** The declarations one order produces: the three documents plus the inventory. */
export const IMPORT_DECLARATIONS: readonly MessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621'];
export const EXPORT_DECLARATIONS: readonly MessageType[] = ['CEB303', 'CEB505', 'CEB603'];

export class NoCenterError extends Error {
  constructor(public readonly customsCode: string) {
    super(`no clearance center serves customs district ${customsCode}`);
    this.name = 'NoCenterError';
  }
}

export class SubmissionRequestError extends Error {
  constructor(
    public readonly status: 404 | 409 | 422,
    message: string,
  ) {
    super(message);
    this.name = 'SubmissionRequestError';
  }
}

export interface SubmissionDeps {
  declarations: DeclarationStore;
  annualUsage: AnnualUsageStore;
  /** Chooses the clearance center for an order (by customs district and remaining capacity); throws NoCenterError. */
  route: (order: BaygateOrder) => Promise<string>;
  sourceMappings: Map<string, SourceMapping>;
  sourceParams: Readonly<Record<string, number | string>>;
  logger: Logger;
  /** Called after declarations were stored (wakes an in-process dispatcher). */
  onAccepted?: (count: number) => void;
}

type Validated =
  { index: number; order: BaygateOrder } | { index: number; orderNo?: string; violations: SubmissionViolation[] };

const v = (path: string, code: string, en: string, zh: string): SubmissionViolation => ({
  path,
  code,
  message: { zh, en },
});

export class Submission implements SubmissionService {
  constructor(private readonly d: SubmissionDeps) {}

  async submit(inputs: unknown[], options: SubmitOptions): Promise<SubmitResult> {
    const validated = await Promise.all(inputs.map((input, index) => this.validate(input, index, options)));
    const invalid = validated.filter((x): x is Extract<Validated, { violations: unknown }> => 'violations' in x);
    const outcomes: OrderOutcome[] = [];
    if (options.atomic && invalid.length > 0) {
      // All or nothing: report every problem; the valid orders are not stored either.
      for (const x of validated) {
        if ('violations' in x)
          outcomes.push({ index: x.index, orderNo: x.orderNo, outcome: 'rejected', violations: x.violations });
        else
          outcomes.push({
            index: x.index,
            orderNo: x.order.orderNo,
            outcome: 'rejected',
            violations: [
              v(
                '',
                'BATCH_REJECTED',
                'not stored: another order in this atomic batch is invalid',
                '未保存：同一原子批次中有其他订单无效',
              ),
            ],
          });
      }
      return summarise(outcomes);
    }

    const valid = validated.filter((x): x is Extract<Validated, { order: BaygateOrder }> => 'order' in x);
    const reserved = await Promise.all(valid.map((x) => this.reserveAndRoute(x)));
    if (options.atomic && reserved.some((r) => 'violations' in r)) {
      await Promise.all(
        reserved.filter((r) => 'order' in r).map((r) => this.releaseReservation((r as { order: BaygateOrder }).order)),
      );
      for (const r of reserved) {
        outcomes.push(
          'violations' in r
            ? { index: r.index, orderNo: r.orderNo, outcome: 'rejected', violations: r.violations }
            : {
                index: r.index,
                orderNo: r.order.orderNo,
                outcome: 'rejected',
                violations: [
                  v(
                    '',
                    'BATCH_REJECTED',
                    'not stored: another order in this atomic batch is invalid',
                    '未保存：同一原子批次中有其他订单无效',
                  ),
                ],
              },
        );
      }
      for (const x of invalid)
        outcomes.push({ index: x.index, orderNo: x.orderNo, outcome: 'rejected', violations: x.violations });
      return summarise(outcomes);
    }

    const toStore: NewDeclaration[] = [];
    const byOrder = new Map<number, NewDeclaration[]>();
    for (const r of reserved) {
      if ('violations' in r) {
        outcomes.push({ index: r.index, orderNo: r.orderNo, outcome: 'rejected', violations: r.violations });
        continue;
      }
      const declarations = declarationsFor(r.order, r.center, options);
      byOrder.set(r.index, declarations);
      toStore.push(...declarations);
    }
    for (const x of invalid)
      outcomes.push({ index: x.index, orderNo: x.orderNo, outcome: 'rejected', violations: x.violations });

    if (toStore.length > 0) {
      const { inserted, existing } = await this.d.declarations.insertMany(toStore);
      const stored = new Map<string, DeclarationView>();
      for (const view of [...inserted, ...existing])
        stored.set(keyOf(view.platformCode, view.orderNo, view.messageType), view);
      const insertedIds = new Set(inserted.map((i) => i.id));
      for (const [index, declarations] of byOrder) {
        const views = declarations
          .map((d) => stored.get(keyOf(d.platformCode, d.orderNo, d.messageType)))
          .filter((x): x is DeclarationView => !!x);
        const fresh = views.some((view) => insertedIds.has(view.id));
        outcomes.push({
          index,
          orderNo: declarations[0]!.orderNo,
          outcome: fresh ? 'accepted' : 'duplicate',
          declarations: views.map((view) => ({
            id: view.id,
            messageType: view.messageType,
            center: view.center,
            status: view.status,
          })),
        });
      }
      if (inserted.length > 0) this.d.onAccepted?.(inserted.length);
    }
    return summarise(outcomes);
  }

  private async validate(input: unknown, index: number, options: SubmitOptions): Promise<Validated> {
    let candidate: unknown = input;
    if (options.source) {
      const mapping = this.d.sourceMappings.get(options.source);
      if (!mapping)
        return {
          index,
          violations: [
            v(
              '',
              'SOURCE_UNKNOWN',
              `unknown source format "${options.source}"; known: ${[...this.d.sourceMappings.keys()].join(', ')}`,
              `未知的来源格式 "${options.source}"`,
            ),
          ],
        };
      const mapped = mapSourceRecord(mapping, input, { params: this.d.sourceParams });
      if (!mapped.ok) {
        return {
          index,
          orderNo: stringAt(mapped.draft, 'orderNo'),
          violations: mapped.issues.map((i) =>
            v(i.path, 'SOURCE_MAPPING', i.message, `来源格式转换错误：${i.message}`),
          ),
        };
      }
      candidate = mapped.order;
    }
    // The annual limit is enforced by an atomic reservation after validation (two gateways must not both
    // spend the same headroom), so the rule check itself sees no prior usage here.
    const noUsage: AnnualUsageLookup = { usedThisYear: async () => 0 };
    const checked = await checkOrder(candidate, { annualUsage: noUsage });
    if (!checked.ok)
      return {
        index,
        orderNo: checked.order?.orderNo ?? stringAt(candidate, 'orderNo'),
        violations: checked.violations,
      };
    const order = checked.order;
    if (options.allowedEbcCodes.length > 0 && !options.allowedEbcCodes.includes(order.ebcCode)) {
      return {
        index,
        orderNo: order.orderNo,
        violations: [
          v(
            'ebcCode',
            'EBC_NOT_YOURS',
            `this account may not declare for e-commerce company ${order.ebcCode}`,
            `本账户无权为电商企业 ${order.ebcCode} 申报`,
          ),
        ],
      };
    }
    return { index, order };
  }

  private async reserveAndRoute(x: {
    index: number;
    order: BaygateOrder;
  }): Promise<
    | { index: number; order: BaygateOrder; center: string }
    | { index: number; orderNo: string; violations: SubmissionViolation[] }
  > {
    const { order } = x;
    let center: string;
    try {
      center = await this.d.route(order);
    } catch (err) {
      if (err instanceof NoCenterError)
        return {
          index: x.index,
          orderNo: order.orderNo,
          violations: [v('customsCode', 'NO_CENTER', err.message, `没有清关中心服务关区 ${order.customsCode}`)],
        };
      throw err;
    }
    if (order.direction === 'import') {
      const year = limitYear(order);
      const amount = limitValue(order);
      const result = await this.d.annualUsage.reserve(order.buyerIdNumber, year, orderKey(order), amount, ANNUAL_LIMIT);
      if (!result.ok) {
        return {
          index: x.index,
          orderNo: order.orderNo,
          violations: [
            v(
              'buyerIdNumber',
              'ANNUAL_LIMIT_EXCEEDED',
              `the buyer has used ${result.used.toFixed(2)} CNY in ${year}; with this order's ${amount.toFixed(2)} CNY that exceeds the ${ANNUAL_LIMIT} CNY annual limit`,
              `订购人 ${year} 年度已用 ${result.used.toFixed(2)} 元，加上本单 ${amount.toFixed(2)} 元超过年度限值 ${ANNUAL_LIMIT} 元`,
            ),
          ],
        };
      }
    }
    return { index: x.index, order, center };
  }

  private async releaseReservation(order: BaygateOrder): Promise<void> {
    if (order.direction === 'import')
      await this.d.annualUsage.release(order.buyerIdNumber, limitYear(order), orderKey(order));
  }

  async cancel(
    inventoryDeclarationId: string,
    input: { reason: string; invtNo?: string },
    options: { sellerIds: string[]; requestId: string },
  ): Promise<DeclarationView> {
    return this.followUp('CEB623', inventoryDeclarationId, input, options);
  }

  async refund(
    inventoryDeclarationId: string,
    input: { reason: string; invtNo?: string },
    options: { sellerIds: string[]; requestId: string },
  ): Promise<DeclarationView> {
    return this.followUp('CEB625', inventoryDeclarationId, input, options);
  }

  /** CEB623/625 refer to an inventory customs has accepted: a new declaration built from the same order. */
  private async followUp(
    type: 'CEB623' | 'CEB625',
    inventoryId: string,
    input: { reason: string; invtNo?: string },
    options: { sellerIds: string[]; requestId: string },
  ): Promise<DeclarationView> {
    const inventory = await this.d.declarations.findById(inventoryId);
    if (!inventory || (options.sellerIds.length > 0 && !options.sellerIds.includes(inventory.sellerId))) {
      throw new SubmissionRequestError(404, `no declaration ${inventoryId}`);
    }
    if (inventory.messageType !== 'CEB621')
      throw new SubmissionRequestError(
        422,
        `${type} applies to a CEB621 inventory; ${inventoryId} is a ${inventory.messageType}`,
      );
    const accepted = ['120', '300', '399', '500', '501', '502', '503', '599', '800', '899'];
    if (!accepted.includes(inventory.status)) {
      throw new SubmissionRequestError(
        409,
        `inventory ${inventoryId} is "${inventory.status}"; ${type === 'CEB623' ? 'cancellation' : 'a return'} needs an inventory customs has accepted (120 or later)`,
      );
    }
    if (type === 'CEB623' && inventory.status === '899')
      throw new SubmissionRequestError(
        409,
        `inventory ${inventoryId} is already cleared (899); declare a return (CEB625) instead`,
      );
    const stored = await this.d.declarations.orderOf(inventoryId);
    if (!stored) throw new SubmissionRequestError(404, `no order stored for ${inventoryId}`);
    const invtNo = input.invtNo ?? latestInvtNo(inventory) ?? inventory.orderNo;
    const declaration: NewDeclaration = {
      id: declarationIdFor(inventory.platformCode, inventory.orderNo, type),
      sellerId: inventory.sellerId,
      platformCode: inventory.platformCode,
      orderNo: inventory.orderNo,
      messageType: type,
      direction: 'import',
      tradeMode: inventory.tradeMode,
      customsCode: inventory.customsCode,
      center: inventory.center,
      order: stored.order,
      extra: { invtNo, reason: input.reason, inventoryDeclarationId: inventoryId },
      amountCny: inventory.amountCny,
      requestId: options.requestId,
    };
    const { inserted, existing } = await this.d.declarations.insertMany([declaration]);
    const view = inserted[0] ?? existing[0];
    if (!view) throw new Error('declaration store returned nothing');
    if (inserted.length > 0) this.d.onAccepted?.(1);
    return view;
  }
}

/** The declarations an accepted order makes, one per message type, their ids derived from the order's key. */
export function declarationsFor(order: BaygateOrder, center: string, options: SubmitOptions): NewDeclaration[] {
  const types = order.direction === 'import' ? IMPORT_DECLARATIONS : EXPORT_DECLARATIONS;
  const amountCny = order.direction === 'import' ? order.acturalPaid : order.goodsValue;
  return types.map((messageType) => ({
    id: declarationIdFor(order.ebpCode, order.orderNo, messageType),
    sellerId: options.sellerId,
    platformCode: order.ebpCode,
    orderNo: order.orderNo,
    messageType,
    direction: EXPORT_MESSAGE_TYPES.includes(messageType) ? 'export' : 'import',
    tradeMode: order.tradeMode,
    customsCode: order.customsCode,
    center,
    order,
    amountCny,
    requestId: options.requestId,
    sellerRegion: order.sellerRegion,
  }));
}

function latestInvtNo(view: DeclarationView): string | undefined {
  for (const entry of [...view.history].reverse()) {
    if (entry.documentKeys?.invtNo) return entry.documentKeys.invtNo;
  }
  return undefined;
}

function orderKey(order: BaygateOrder): string {
  return `${order.ebpCode}:${order.orderNo}`;
}

function keyOf(platformCode: string, orderNo: string, messageType: string): string {
  return `${platformCode}\u0000${orderNo}\u0000${messageType}`;
}

function stringAt(value: unknown, key: string): string | undefined {
  const x = (value as Record<string, unknown> | null)?.[key];
  return typeof x === 'string' ? x : undefined;
}

function summarise(outcomes: OrderOutcome[]): SubmitResult {
  outcomes.sort((a, b) => a.index - b.index);
  return {
    accepted: outcomes.filter((o) => o.outcome === 'accepted').length,
    duplicates: outcomes.filter((o) => o.outcome === 'duplicate').length,
    rejected: outcomes.filter((o) => o.outcome === 'rejected').length,
    orders: outcomes,
  };
}
