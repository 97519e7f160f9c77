import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { ImportOrder } from '../../src/domain/order';
import type { MessageType } from '../../src/domain/message-types';
import type { NewDeclaration } from '../../src/store/contracts';
import { createStores, type Stores } from '../../src/store/index';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { generateValidOrder } from '../support/order-generator';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

/** Test PII configuration: two keys so rotation can be exercised (newest first). */
export const KEY_NEW = 'k2026:' + Buffer.alloc(32, 7).toString('base64');
export const KEY_OLD = 'k2025:' + Buffer.alloc(32, 3).toString('base64');
export const HASH_KEY = Buffer.alloc(32, 9).toString('base64');
export const PII_CONFIG = { PII_KEYS: `${KEY_NEW},${KEY_OLD}`, PII_HASH_KEY: HASH_KEY };

/** The well-known valid ID number from the domain notes, and personal data that must never be seen in clear. */
export const BUYER_ID = '440524188001010014';

export function importOrder(
  seed: number,
  personal: Partial<
    Pick<
      ImportOrder,
      'buyerName' | 'buyerIdNumber' | 'buyerTelephone' | 'consignee' | 'consigneeTelephone' | 'consigneeAddress'
    >
  > = {},
): ImportOrder {
  const order = generateValidOrder(seed, { direction: 'import' });
  if (order.direction !== 'import') throw new Error('generator gave an export order');
  const merged = { ...order, ...personal };
  merged.payment = {
    ...order.payment,
    payerName: personal.buyerName ?? order.payment.payerName,
    payerIdNumber: personal.buyerIdNumber ?? order.payment.payerIdNumber,
  };
  return merged;
}

export function newDeclaration(
  order: ImportOrder,
  messageType: MessageType,
  overrides: Partial<NewDeclaration> = {},
): NewDeclaration {
  return {
    id: randomUUID(),
    sellerId: 'seller-1',
    platformCode: order.ebpCode,
    orderNo: order.orderNo,
    messageType,
    direction: 'import',
    tradeMode: order.tradeMode,
    customsCode: order.customsCode,
    center: 'center-gz',
    order,
    amountCny: order.acturalPaid,
    requestId: 'req-' + randomUUID().slice(0, 8),
    sellerRegion: order.sellerRegion,
    ...overrides,
  };
}

/** A connected store on its own database (dropped before and after). */
export async function openStores(
  name: string,
  config = PII_CONFIG,
  options: { monitorCommands?: boolean } = {},
): Promise<{ url: string; connection: Connection; stores: Stores; close: () => Promise<void> }> {
  await requireMongo();
  const url = mongoUrlFor(name);
  await dropDatabase(url);
  const clientUrl = new URL(url);
  if (options.monitorCommands) clientUrl.searchParams.set('monitorCommands', 'true'); // commandStarted events, for tests that count reads
  const connection = await connectMongo(clientUrl.toString(), silentLogger());
  const stores = createStores(connection, config);
  await stores.init();
  return {
    url,
    connection,
    stores,
    close: async () => {
      await connection.close();
      await dropDatabase(url);
    },
  };
}

export const SIGNER = { subject: 'CN=Baygate Test Signer', serialHex: '01691f7f' };

export function fakeManifest(id: string, order: ImportOrder, guid = randomUUID().toUpperCase()) {
  const xml =
    `<ceb:CEB311Message guid="${guid}" xmlns:ceb="http://www.chinaport.gov.cn/ceb"><ceb:OrderHead><ceb:orderNo>${order.orderNo}</ceb:orderNo>` +
    `<ceb:buyerName>${order.buyerName}</ceb:buyerName><ceb:buyerIdNumber>${order.buyerIdNumber}</ceb:buyerIdNumber>` +
    `<ceb:consignee>${order.consignee}</ceb:consignee><ceb:consigneeTelephone>${order.consigneeTelephone}</ceb:consigneeTelephone>` +
    `<ceb:consigneeAddress>${order.consigneeAddress}</ceb:consigneeAddress></ceb:OrderHead><!-- ${id} --></ceb:CEB311Message>`;
  return { xml, messageGuid: guid, digest: 'sha256:' + guid.toLowerCase(), signer: SIGNER };
}

/** A declaration's document as stored (read directly, not through the store). */
export async function rawDeclaration(stores: Stores, id: string): Promise<Record<string, unknown>> {
  const doc = await stores.models.Declaration.db.db!.collection('declarations').findOne({ _id: id } as never);
  if (!doc) throw new Error(`no declaration ${id}`);
  return doc as Record<string, unknown>;
}
