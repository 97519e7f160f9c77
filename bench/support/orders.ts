import { gb11643CheckChar } from '../../src/domain/rules/gb11643';
import { generateValidOrder } from '../../test/support/order-generator';

/**
 * Unique valid import orders, fast enough for a load generator: a few templates from the seeded test
 * generator (every one passes the rules), then per order only the keys change — a unique orderNo,
 * waybill and payment number, and a fresh buyer (valid GB 11643 number; a new one per order, so the
 * 26,000 CNY annual limit never refuses a benchmark order). Import only, so one order = 4 declarations.
 */
export const TEMPLATE_COUNT = 64;

export function orderFactory(runTag: string): () => Record<string, unknown> {
  const templates = Array.from({ length: TEMPLATE_COUNT }, (_, i) =>
    JSON.stringify(generateValidOrder(1000 + i, { direction: 'import' })),
  );
  let counter = 0;
  const tag = runTag
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 12)
    .toUpperCase();
  return () => {
    counter++;
    const order = JSON.parse(templates[counter % TEMPLATE_COUNT]!) as Record<string, unknown> & {
      buyerIdNumber: string;
      payment: Record<string, unknown>;
      logistics: Record<string, unknown>;
    };
    const n = `${tag}${process.pid.toString(36).toUpperCase()}${counter.toString(36).toUpperCase().padStart(7, '0')}`;
    order.orderNo = `BGB${n}`;
    order.logistics.logisticsNo = `BQB${n}`;
    order.payment.payTransactionId = `WPB${n}`;
    const buyer = freshBuyerId(order.buyerIdNumber, counter);
    order.buyerIdNumber = buyer;
    order.payment.payerIdNumber = buyer;
    return order;
  };
}

/** Same area code as the template, a birth date and sequence from the counter and a random part. */
function freshBuyerId(template: string, counter: number): string {
  const area = template.slice(0, 6);
  const day = new Date(Date.UTC(1960, 0, 1) + Math.floor(Math.random() * 40 * 365) * 86_400_000);
  const birth = day.toISOString().slice(0, 10).replace(/-/g, '');
  const seq = String((counter * 7 + Math.floor(Math.random() * 1000)) % 1000).padStart(3, '0');
  const first17 = area + birth + seq;
  return first17 + gb11643CheckChar(first17);
}
