import type { Logger } from 'pino';
import { declarationIdFor } from '../domain/declaration-id';
import type { BaygateOrder } from '../domain/order';
import { ANNUAL_LIMIT } from '../domain/rules';
import { EXPORT_MESSAGE_TYPES, type MessageType } from '../domain/message-types';
import type { SourceMapping } from '../mapping/source-mapper';
import type {
  AnnualUsageStore,
  DeclarationStore,
  DeclarationView,
  NewDeclaration,
  OrderNumberClash,
  OrderNumberStore,
} from '../store/contracts';
import { AnnualLimit } from './annual-limit';
import type { FollowUpOptions, OrderOutcome, SubmissionService, SubmitOptions, SubmitResult } from './contracts';
import { declareFollowUp } from './follow-up';
import { readOrder, violation as v, type Rejected, type Valid } from './order-intake';

export { FollowUpError, type FollowUpRefusal } from './follow-up';

/** The declarations one order produces: the three documents plus the inventory. */
export const IMPORT_DECLARATIONS: readonly MessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621'];
export const EXPORT_DECLARATIONS: readonly MessageType[] = ['CEB303', 'CEB505', 'CEB603'];

export class NoCenterError extends Error {
  constructor(public readonly customsCode: string) {
    super(`no clearance center serves customs district ${customsCode}`);
    this.name = 'NoCenterError';
  }
}

export interface SubmissionDeps {
  declarations: DeclarationStore;
  annualUsage: AnnualUsageStore;
  orderNumbers: OrderNumberStore;
  /** Chooses the clearance center for an order (by customs district and remaining capacity); throws NoCenterError. */
  route: (order: BaygateOrder) => Promise<string>;
  sourceMappings: Map<string, SourceMapping>;
  sourceParams: Readonly<Record<string, number | string>>;
  logger: Logger;
  /** Called after declarations were stored (wakes an in-process dispatcher). */
  onAccepted?: (count: number) => void;
  /** Called for every order refused because another seller holds its number (a metric, an alert). */
  onClash?: (clash: OrderNumberClash) => void;
}

type Routed = Valid & { center: string };
/** An order on its way to the store, with what this request reserved for it. */
type Declaring = Routed & { declarations: NewDeclaration[]; reserved: boolean };

const batchRejected = (x: { index: number; orderNo?: string }): Rejected => ({
  index: x.index,
  orderNo: x.orderNo,
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

/**
 * Submission, order by order: parse (Baygate format or a mapped source format) → business rules → route
 * to a center → take the platform order number (one seller per number and platform:
 * docs/decisions/order-number-clashes.md) → annual-limit reservation → store one declaration per message
 * type. A resubmitted order is a duplicate with its existing declarations and reserves nothing; an order
 * whose number another seller holds is refused without a word about the other seller's order, and the
 * clash is recorded for the operator.
 */
export class Submission implements SubmissionService {
  private readonly limit: AnnualLimit;

  constructor(private readonly d: SubmissionDeps) {
    this.limit = new AnnualLimit(d.annualUsage, d.declarations);
  }

  async submit(inputs: unknown[], options: SubmitOptions): Promise<SubmitResult> {
    const validated = await Promise.all(inputs.map((input, index) => readOrder(input, index, options, this.d)));
    const rejected: Rejected[] = validated.filter((x): x is Rejected => 'violations' in x);
    const valid = validated.filter((x): x is Valid => 'order' in x);
    if (options.atomic && rejected.length > 0)
      return summarise([...rejected, ...valid.map((x) => batchRejected({ index: x.index, orderNo: x.order.orderNo }))]);

    const routed: Routed[] = [];
    for (const r of await Promise.all(valid.map((x) => this.route(x)))) {
      if ('violations' in r) rejected.push(r);
      else routed.push(r);
    }
    const { fresh, duplicates, clashes } = await this.takeOrderNumbers(routed, options);
    rejected.push(...clashes);
    const declaring: Declaring[] = [];
    const reservations = await Promise.all(fresh.map((x) => this.limit.reserve(x.order)));
    for (const [i, x] of fresh.entries()) {
      const reservation = reservations[i]!;
      if (reservation.ok)
        declaring.push({
          ...x,
          declarations: declarationsFor(x.order, x.center, options),
          reserved: reservation.added,
        });
      else rejected.push(limitExceeded(x, reservation));
    }

    if (options.atomic && rejected.length > 0) {
      await this.releaseAll(declaring.filter((x) => x.reserved).map((x) => x.order));
      return summarise([
        ...rejected,
        ...[...declaring, ...duplicates].map((x) => batchRejected({ index: x.index, orderNo: x.order.orderNo })),
      ]);
    }
    const outcomes = await this.store(declaring, options);
    return summarise([...rejected, ...duplicates.map((d) => d.outcome), ...outcomes]);
  }

  /**
   * Takes each order's platform number for this seller. Numbers this seller held already are
   * duplicates when their declarations are stored (and go on as new when they are not: an earlier
   * attempt was refused, or crashed before storing); numbers another seller holds are clashes.
   */
  private async takeOrderNumbers(
    routed: Routed[],
    options: SubmitOptions,
  ): Promise<{
    fresh: Routed[];
    duplicates: { index: number; order: BaygateOrder; outcome: OrderOutcome }[];
    clashes: Rejected[];
  }> {
    const owners = await this.d.orderNumbers.claim(
      routed.map((x) => ({ platformCode: x.order.ebpCode, orderNo: x.order.orderNo, sellerId: options.sellerId })),
    );
    const fresh: Routed[] = [];
    const held: Routed[] = [];
    const clashes: Rejected[] = [];
    for (const [i, x] of routed.entries()) {
      const { owner, claimed } = owners[i]!;
      if (owner !== options.sellerId) clashes.push(await this.clash(x, owner, options));
      else (claimed ? fresh : held).push(x);
    }
    const duplicates: { index: number; order: BaygateOrder; outcome: OrderOutcome }[] = [];
    const existing = await this.storedDeclarations(held.map((x) => x.order));
    for (const x of held) {
      const types = declarationTypes(x.order);
      const found = (existing.get(numberKey(x.order)) ?? []).filter((d) => types.includes(d.messageType));
      const foreign = found.find((d) => d.sellerId !== options.sellerId);
      // Declarations of another seller under a number this seller holds: stored before numbers were
      // held (a second lock, never expected otherwise).
      if (foreign) clashes.push(await this.clash(x, foreign.sellerId, options));
      else if (found.length === types.length)
        duplicates.push({ index: x.index, order: x.order, outcome: stored(x.index, x.order.orderNo, found, false) });
      else fresh.push(x);
    }
    return { fresh, duplicates, clashes };
  }

  /** Stores the declarations; an order that turns out to be stored already gives its reservation back. */
  private async store(declaring: Declaring[], options: SubmitOptions): Promise<OrderOutcome[]> {
    if (declaring.length === 0) return [];
    const { inserted, existing } = await this.d.declarations.insertMany(declaring.flatMap((x) => x.declarations));
    const byKey = new Map<string, DeclarationView>();
    for (const view of [...inserted, ...existing])
      byKey.set(declarationKey(view.platformCode, view.orderNo, view.messageType), view);
    const insertedIds = new Set(inserted.map((i) => i.id));
    const outcomes: OrderOutcome[] = [];
    for (const x of declaring) {
      const views = x.declarations
        .map((d) => byKey.get(declarationKey(d.platformCode, d.orderNo, d.messageType)))
        .filter((view): view is DeclarationView => !!view);
      const fresh = views.some((view) => insertedIds.has(view.id));
      const foreign = views.find((view) => view.sellerId !== options.sellerId);
      if (!fresh && x.reserved) await this.limit.release(x.order);
      if (foreign && !fresh) outcomes.push(await this.clash(x, foreign.sellerId, options));
      else outcomes.push(stored(x.index, x.order.orderNo, views, fresh));
    }
    if (inserted.length > 0) this.d.onAccepted?.(inserted.length);
    return outcomes;
  }

  /** Records the clash for the operator and refuses the order without a word about the holder's. */
  private async clash(x: Routed, holder: string, options: SubmitOptions): Promise<Rejected> {
    const clash = await this.d.orderNumbers.recordClash({
      platformCode: x.order.ebpCode,
      orderNo: x.order.orderNo,
      holderSellerId: holder,
      claimantSellerId: options.sellerId,
      requestId: options.requestId,
    });
    this.d.logger.warn(
      { clashId: clash.id, platformCode: clash.platformCode, attempts: clash.attempts, requestId: options.requestId },
      'order number held by another seller: order refused, clash recorded for the operator',
    );
    this.d.onClash?.(clash);
    return {
      index: x.index,
      orderNo: x.order.orderNo,
      outcome: 'rejected',
      violations: [
        v(
          'orderNo',
          'ORDER_NO_TAKEN',
          `this platform's order number ${x.order.orderNo} is already declared by another account; nothing was stored and the operator has been notified (clash ${clash.id})`,
          `该平台订单号 ${x.order.orderNo} 已由其他账户申报；本单未保存，已通知运营人员（冲突编号 ${clash.id}）`,
        ),
      ],
    };
  }

  /** The stored declarations of these orders' numbers, by platform and number, in one read. */
  private async storedDeclarations(orders: BaygateOrder[]): Promise<Map<string, DeclarationView[]>> {
    const out = new Map<string, DeclarationView[]>();
    if (orders.length === 0) return out;
    const platforms = new Set(orders.map((o) => o.ebpCode));
    for (const d of await this.d.declarations.findByOrderNos(orders.map((o) => o.orderNo))) {
      if (!platforms.has(d.platformCode)) continue;
      const key = numberKey({ ebpCode: d.platformCode, orderNo: d.orderNo });
      out.set(key, [...(out.get(key) ?? []), d]);
    }
    return out;
  }

  private async releaseAll(orders: BaygateOrder[]): Promise<void> {
    await Promise.all(orders.map((order) => this.limit.release(order)));
  }

  private async route(x: Valid): Promise<Routed | Rejected> {
    try {
      return { ...x, center: await this.d.route(x.order) };
    } catch (err) {
      if (!(err instanceof NoCenterError)) throw err;
      return {
        index: x.index,
        orderNo: x.order.orderNo,
        outcome: 'rejected',
        violations: [v('customsCode', 'NO_CENTER', err.message, `没有清关中心服务关区 ${x.order.customsCode}`)],
      };
    }
  }

  async cancel(
    inventoryDeclarationId: string,
    input: { reason: string; invtNo?: string },
    options: FollowUpOptions,
  ): Promise<DeclarationView> {
    return this.followUp('CEB623', inventoryDeclarationId, input, options);
  }

  async refund(
    inventoryDeclarationId: string,
    input: { reason: string; invtNo?: string },
    options: FollowUpOptions,
  ): Promise<DeclarationView> {
    return this.followUp('CEB625', inventoryDeclarationId, input, options);
  }

  private async followUp(
    type: 'CEB623' | 'CEB625',
    inventoryId: string,
    input: { reason: string; invtNo?: string },
    options: FollowUpOptions,
  ): Promise<DeclarationView> {
    const { view, inserted } = await declareFollowUp(this.d.declarations, type, inventoryId, input, options);
    if (inserted) this.d.onAccepted?.(1);
    return view;
  }
}

/**
 * The refusal names this order's own figures only: what the buyer spent with anyone (this seller or
 * another) is not this seller's to learn.
 */
function limitExceeded(x: Routed, reservation: { amount: number; year: number }): Rejected {
  return {
    index: x.index,
    orderNo: x.order.orderNo,
    outcome: 'rejected',
    violations: [
      v(
        'buyerIdNumber',
        'ANNUAL_LIMIT_EXCEEDED',
        `with this order's ${reservation.amount.toFixed(2)} CNY the buyer would exceed the ${ANNUAL_LIMIT} CNY annual limit for ${reservation.year}`,
        `加上本单 ${reservation.amount.toFixed(2)} 元，订购人 ${reservation.year} 年度跨境电商消费将超过年度限值 ${ANNUAL_LIMIT} 元`,
      ),
    ],
  };
}

function stored(index: number, orderNo: string, views: DeclarationView[], fresh: boolean): OrderOutcome {
  return {
    index,
    orderNo,
    outcome: fresh ? 'accepted' : 'duplicate',
    declarations: views.map((view) => ({
      id: view.id,
      messageType: view.messageType,
      center: view.center,
      status: view.status,
    })),
  };
}

function declarationTypes(order: BaygateOrder): readonly MessageType[] {
  return order.direction === 'import' ? IMPORT_DECLARATIONS : EXPORT_DECLARATIONS;
}

/** The declarations an accepted order makes, one per message type, their ids derived from the order's key. */
export function declarationsFor(order: BaygateOrder, center: string, options: SubmitOptions): NewDeclaration[] {
  const amountCny = order.direction === 'import' ? order.acturalPaid : order.goodsValue;
  return declarationTypes(order).map((messageType) => ({
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

function numberKey(order: Pick<BaygateOrder, 'ebpCode' | 'orderNo'>): string {
  return `${order.ebpCode}\u0000${order.orderNo}`;
}

function declarationKey(platformCode: string, orderNo: string, messageType: string): string {
  return `${platformCode}\u0000${orderNo}\u0000${messageType}`;
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
