import type { Collection } from 'mongodb';
import { manifestContext, orderContext } from './declaration-doc';
import type { DeclarationOrderDoc, ManifestDoc } from './models';
import type { PiiVault } from './pii';

/**
 * Key rotation: re-seals, with the newest PII key, every stored value sealed with an older one (orders,
 * manifests). Run after putting a new key first in PII_KEYS; once it reports 0, the old key can leave the
 * ring. Each value is replaced only if it is still the one read (a conditional update on its IV). A
 * maintenance job: it reads every value sealed with an old key.
 */
export async function reencryptAll(
  vault: PiiVault,
  orders: Collection<DeclarationOrderDoc>,
  manifests: Collection<ManifestDoc>,
): Promise<number> {
  const current = vault.currentKeyId;
  let count = 0;
  for (const d of await orders.find({ 'orderSealed.k': { $ne: current } }).toArray()) {
    const r = await orders.updateOne(
      { _id: d._id, 'orderSealed.iv': d.orderSealed.iv },
      { $set: { orderSealed: vault.reencrypt(d.orderSealed, orderContext(d._id)) } },
    );
    count += r.modifiedCount;
  }
  for (const m of await manifests.find({ 'xmlSealed.k': { $ne: current } }).toArray()) {
    const r = await manifests.updateOne(
      { _id: m._id, 'xmlSealed.iv': m.xmlSealed.iv },
      { $set: { xmlSealed: vault.reencrypt(m.xmlSealed, manifestContext(m.declarationId)) } },
    );
    count += r.modifiedCount;
  }
  return count;
}
