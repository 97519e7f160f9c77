import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { decideTransition, isKnownStatus, isTerminal } from '../domain/status';
import type { AnnualLimit } from './annual-limit';
import { answeringCenter, assertOwnDeclarations, ReceiptRejectedError, type ReceiptSender } from './receipt-authority';
import type { VerifiedDocument } from '../signing/verifier';
import type { DeclarationStore, DeclarationSubject, ReceiptStore, StoredReceipt } from '../store/contracts';
import { parseReceipt, type ReceiptReturn } from '../xml/receipts/parse-receipt';
import { RECEIPT_TYPES } from '../xml/receipts/receipt-types';

/**
 * Receipt ingestion, shared by the RabbitMQ consumer and `POST /v1/receipts`:
 * verify (strict, centers' trust list) → parse only the signed bytes → store the receipt once → move each
 * matched declaration forward (a no-op for duplicates and late/out-of-order receipts) → report the rest.
 * A receipt whose returns match no declaration is kept and reported, never dropped.
 */
export { ReceiptRejectedError, type ReceiptSender } from './receipt-authority';

export interface ReturnOutcome {
  guid: string;
  status: string;
  declarationId: string | null;
  applied: boolean;
  reason?: string;
}

export interface IngestResult {
  receiptId: string;
  receiptType: string;
  duplicate: boolean;
  unknown: boolean;
  returns: ReturnOutcome[];
}

export interface ReceiptIngestorOptions {
  declarations: DeclarationStore;
  receipts: ReceiptStore;
  /** Strict verification against the clearance centers' trust list. */
  verify: (xml: string) => Promise<VerifiedDocument>;
  logger: Logger;
  /** Gives a buyer's annual allowance back when customs refuses an inventory (100, negative codes). */
  annualLimit?: Pick<AnnualLimit, 'releaseIfRefused'>;
  /** The centers whose configured receipt certificate this is (compared by serial). */
  centersSignedBy: (signer: { serialHex: string }) => readonly string[];
  /**
   * Take the center a message claims (an AMQP header) when the certificate signs for several centers and
   * no transport authenticated the sender: development only (src/pipeline/receipt-authority.ts).
   */
  trustClaimedCenter: boolean;
  onApplied?: (declaration: DeclarationSubject, status: string, receivedAt: Date, returnTime: Date | undefined) => void;
}

/** The declaration a return answers: by the guid it echoes (then status moves are matched by guid) or by order number. */
interface Match {
  declaration: DeclarationSubject;
  byGuid?: string;
}

export class ReceiptIngestor {
  constructor(private readonly o: ReceiptIngestorOptions) {}

  /**
   * Verifies, binds the receipt to its center, and only then stores and applies it. Refusals
   * (ReceiptRejectedError) store nothing: an HTTP sender gets a 4xx problem, an AMQP one a dead letter.
   */
  async ingest(raw: Buffer | string, sender: ReceiptSender): Promise<IngestResult> {
    let text: string;
    try {
      text = typeof raw === 'string' ? raw : STRICT_UTF8.decode(raw);
    } catch {
      throw new ReceiptRejectedError('RECEIPT_NOT_UTF8', 'the receipt is not valid UTF-8');
    }
    let verified: VerifiedDocument;
    try {
      verified = await this.o.verify(text);
    } catch (err) {
      throw new ReceiptRejectedError(
        (err as { code?: string }).code ?? 'SIGNATURE_INVALID',
        `receipt signature rejected: ${(err as Error).message}`,
      );
    }
    let parsed;
    try {
      parsed = parseReceipt(verified.signedXml); // only the signed bytes are read
    } catch (err) {
      throw new ReceiptRejectedError(
        (err as { code?: string }).code ?? 'RECEIPT_INVALID',
        `receipt unreadable: ${(err as Error).message}`,
      );
    }

    const center = answeringCenter(sender, this.o.centersSignedBy(verified.signer), {
      trustClaimedCenter: this.o.trustClaimedCenter,
    });
    const answers = RECEIPT_TYPES[parsed.type].answers;
    const matches = await this.matchAll(parsed.returns, answers);
    assertOwnDeclarations(
      center,
      matches.map((m) => m?.declaration ?? null),
    );

    const receivedAt = new Date();
    const { receipt, duplicate } = await this.o.receipts.insert({
      messageType: parsed.type,
      // What was signed, not the bytes it came in: the same receipt with another XML declaration, another
      // trailing newline or another (equally valid) signature value is the same receipt.
      digest: createHash('sha256').update(verified.signedXml).digest('hex'),
      raw: text,
      center,
      signer: {
        subject: verified.signer.subject,
        serialHex: verified.signer.serialHex,
        trustList: verified.signer.trustedBy,
      },
      returns: parsed.returns,
      receivedAt,
      via: sender.via,
    });

    // Applying again on a duplicate is safe (status moves are idempotent) and finishes the work of an
    // earlier attempt that stored the receipt but crashed before applying it.
    const outcomes: ReturnOutcome[] = [];
    for (const [i, ret] of parsed.returns.entries())
      outcomes.push(await this.applyReturn(ret, matches[i] ?? null, receipt, receivedAt));
    const matched = outcomes.map((o) => o.declarationId);
    const unknown = matched.every((m) => m === null);
    await this.o.receipts.markMatched(receipt.id, matched);
    if (unknown)
      this.o.logger.warn(
        { receiptId: receipt.id, receiptType: parsed.type, returns: parsed.returns.length },
        'receipt for unknown declaration kept for brokers',
      );
    return { receiptId: receipt.id, receiptType: parsed.type, duplicate, unknown, returns: outcomes };
  }

  private async applyReturn(
    ret: ReceiptReturn,
    matched: Match | null,
    receipt: StoredReceipt,
    receivedAt: Date,
  ): Promise<ReturnOutcome> {
    if (!matched)
      return { guid: ret.guid, status: ret.status, declarationId: null, applied: false, reason: 'unknown-declaration' };
    const { declaration, byGuid } = matched;
    if (!isKnownStatus(ret.status))
      return {
        guid: ret.guid,
        status: ret.status,
        declarationId: declaration.id,
        applied: false,
        reason: 'unknown-status',
      };
    // Final already (a subject's status is final only when its final step was read): nothing can follow,
    // and the store need not read it all again.
    if (isTerminal(declaration.status, declaration.messageType)) {
      const decision = decideTransition(declaration.status, ret.status, declaration.messageType);
      // Seen final again (a redelivery after a crash): finish what the first delivery may not have.
      if (!decision.apply) await this.o.annualLimit?.releaseIfRefused(declaration, declaration.status);
      if (!decision.apply)
        return {
          guid: ret.guid,
          status: ret.status,
          declarationId: declaration.id,
          applied: false,
          reason: decision.reason,
        };
    }
    const returnTime = parseReturnTime(ret.returnTime);
    const result = await this.o.declarations.applyStatus(
      byGuid ? { messageGuid: byGuid } : { id: declaration.id },
      ret.status,
      {
        at: returnTime ?? receivedAt,
        source: 'receipt',
        receiptId: receipt.id,
        signer: receipt.signer ? { subject: receipt.signer.subject, serialHex: receipt.signer.serialHex } : undefined,
        info: describeReturn(ret),
        documentKeys: documentKeys(ret),
      },
    );
    if (result.applied && result.subject) this.o.onApplied?.(result.subject, ret.status, receivedAt, returnTime);
    // Idempotent: released when the refusal is applied, and again (a no-op) whenever it is seen again.
    await this.o.annualLimit?.releaseIfRefused(declaration, result.applied ? ret.status : declaration.status);
    return {
      guid: ret.guid,
      status: ret.status,
      declarationId: declaration.id,
      applied: result.applied,
      reason: result.reason,
    };
  }

  /**
   * Receipts echo the guid of the message they answer; that is the primary key. Order receipts also carry
   * the order number, which finds the declaration when a center answers with a guid of its own. All the
   * returns of a receipt are looked up together: one read per collection, not one per return (a receipt
   * with a hundred returns for unknown guids took over 20 s on FerretDB v1, docs/CHAOS.md finding 12).
   */
  private async matchAll(returns: readonly ReceiptReturn[], answers: string | undefined): Promise<(Match | null)[]> {
    const guids = returns.map((ret) => (ret.guid ? ret.guid.toUpperCase() : undefined));
    const byGuid = await this.o.declarations.subjectsByGuids(guids.filter((g): g is string => g !== undefined));
    const orderNos = answers
      ? returns.flatMap((ret, i) => (byGuid.has(guids[i] ?? '') || !ret.keys.orderNo ? [] : [ret.keys.orderNo]))
      : [];
    const candidates = orderNos.length > 0 ? await this.o.declarations.findByOrderNos(orderNos) : [];
    return returns.map((ret, i) => {
      const guid = guids[i];
      const found = guid ? byGuid.get(guid) : undefined;
      if (guid && found) return { declaration: found, byGuid: guid };
      const orderNo = ret.keys.orderNo;
      if (!orderNo || !answers) return null;
      const declaration = candidates.find(
        (d) =>
          d.orderNo === orderNo &&
          d.messageType === answers &&
          (!ret.keys.ebpCode || d.platformCode === ret.keys.ebpCode),
      );
      return declaration ? { declaration } : null;
    });
  }

  /**
   * A center's delivery notice: the manifest left its queue. Moves queued → delivered ("delivered" ranks
   * below every receipt status, so a notice overtaken by a receipt changes nothing).
   */
  async delivered(notice: { messageGuid: string; center?: string; at?: string }): Promise<boolean> {
    const at = notice.at ? new Date(notice.at) : new Date();
    const entry = {
      at: Number.isNaN(at.getTime()) ? new Date() : at,
      source: 'connector' as const,
      info: notice.center ? `taken by clearance center ${notice.center}` : undefined,
    };
    const result = await this.o.declarations.applyStatus({ messageGuid: notice.messageGuid }, 'delivered', entry);
    return result.applied;
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** YYYYMMDDhhmmssSSS (Beijing time, UTC+8) → Date; undefined when absent or malformed. */
export function parseReturnTime(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})?$/.exec(value ?? '');
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms ?? '000'}+08:00`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Customs' own text, plus the specification's meaning of a negative code when customs sent none. */
function describeReturn(ret: ReceiptReturn): string | undefined {
  const meaning = ret.error?.messages[0];
  if (ret.returnInfo && meaning && !ret.returnInfo.includes(meaning))
    return `${ret.returnInfo} [${ret.status}: ${meaning}]`;
  return ret.returnInfo || meaning || undefined;
}

function documentKeys(ret: ReceiptReturn): Record<string, string> | undefined {
  const keys = Object.fromEntries(
    Object.entries(ret.keys).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
  );
  return Object.keys(keys).length > 0 ? keys : undefined;
}
