import type { Collection } from 'mongodb';
import { findByValues, insertIgnoringDuplicates } from './bulk-writes';
import { manifestContext } from './declaration-doc';
import type { ManifestDoc } from './models';
import type { PiiVault } from './pii';

/**
 * Signed manifests, sealed, under their message guid (write-once). A manifest is stored before the update
 * that makes it the declaration's signature, so the bytes a retry re-sends are always there; a manifest
 * whose update lost (another signature won) is never sent and stays only as a record.
 */
export class ManifestArchive {
  constructor(
    private readonly manifests: Collection<ManifestDoc>,
    private readonly vault: PiiVault,
  ) {}

  /** Stores manifests; the same guid again is fine for the same declaration, an error for another. */
  async archive(
    items: readonly {
      declarationId: string;
      xml: string;
      messageGuid: string;
      digest: string;
      signer: { subject: string; serialHex: string };
    }[],
    now = new Date(),
  ): Promise<void> {
    const docs: ManifestDoc[] = items.map((m) => ({
      _id: m.messageGuid,
      declarationId: m.declarationId,
      digest: m.digest,
      signer: { subject: m.signer.subject, serialHex: m.signer.serialHex },
      xmlSealed: this.vault.sealText(m.xml, manifestContext(m.declarationId)),
      createdAt: now,
    }));
    const { duplicates } = await insertIgnoringDuplicates(this.manifests, docs);
    if (duplicates.length === 0) return;
    const owners = new Map(
      (
        await findByValues(
          this.manifests,
          '_id',
          duplicates.map((d) => d._id),
          { projection: { declarationId: 1 } },
        )
      ).map((m) => [m._id, m.declarationId]),
    );
    const wrong = duplicates.find((d) => owners.get(d._id) !== d.declarationId);
    if (wrong)
      throw new Error(`message guid ${wrong._id} already belongs to declaration ${owners.get(wrong._id) ?? '?'}`);
  }

  /** The decrypted XML of these manifests (guid → xml), each opened for the declaration it belongs to. */
  async xmlByGuid(guids: readonly string[]): Promise<Map<string, { xml: string; declarationId: string }>> {
    const out = new Map<string, { xml: string; declarationId: string }>();
    for (const m of await findByValues(this.manifests, '_id', guids))
      out.set(m._id, {
        xml: this.vault.openText(m.xmlSealed, manifestContext(m.declarationId)),
        declarationId: m.declarationId,
      });
    return out;
  }
}
