import type { Connection } from 'mongoose';
import type { Config } from '../config';
import { MongoAnnualUsageStore } from './annual-usage';
import { MongoDeclarationStore } from './declarations';
import { MongoOrderNumberStore } from './order-numbers';
import { ensureIndexes, storeModels, type StoreModels } from './models';
import { PiiVault } from './pii';
import { MongoReceiptStore } from './receipts';

export interface Stores {
  declarations: MongoDeclarationStore;
  receipts: MongoReceiptStore;
  annualUsage: MongoAnnualUsageStore;
  orderNumbers: MongoOrderNumberStore;
  vault: PiiVault;
  models: StoreModels;
  /** Creates collections and indexes (idempotent); await once before serving. */
  init(): Promise<void>;
}

/** The stores on one mongoose connection (never the global default), with the PII keys from config. */
export function createStores(connection: Connection, config: Pick<Config, 'PII_KEYS' | 'PII_HASH_KEY'>): Stores {
  const models = storeModels(connection);
  const vault = PiiVault.fromConfig(config);
  const orderNumbers = new MongoOrderNumberStore(() => {
    const db = connection.db;
    if (!db) throw new Error('the store needs a connected mongoose connection');
    return db;
  });
  return {
    declarations: new MongoDeclarationStore(models, vault),
    receipts: new MongoReceiptStore(models),
    annualUsage: new MongoAnnualUsageStore(models, vault),
    orderNumbers,
    vault,
    models,
    init: async () => {
      await ensureIndexes(models);
      await orderNumbers.ensureIndexes();
    },
  };
}
