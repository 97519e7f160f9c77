import type { BaygateOrder, InventoryCancelRequest, InventoryRefundRequest } from '../domain/order';
import { CanonicalXmlWriter } from '../xml/canonical-writer';
import { CEB_NS, CEB_PREFIX, XSI_NS } from '../xml/ceb-namespaces';
import { assertCebGuid, CebFormatError } from '../xml/ceb-formats';
import { freshGuid, type MappingScope } from './message-functions';
import { loadMessageMappings, type BuildViolation, type CompiledMapping, type CompiledNode } from './message-mapper';
import { EXPORT_MESSAGE_TYPES, type MappingKey, type MessageType } from '../domain/message-types';

/**
 * buildMessage: one Baygate order → one unsigned CEB declaration, as canonical XML (see
 * src/xml/canonical-writer.ts for the byte-level invariants the signing layer relies on).
 *
 *   buildMessage(type: MessageType, order: BaygateOrder, ctx: BuildContext): BuiltMessage
 *
 * - Element order, fixed codes and sources come from mappings/messages/<type>.json (CEB621: one file
 *   per trade mode, chosen by order.tradeMode).
 * - The root carries guid (36 chars, upper case) and version="1.0", and declares xmlns:ceb and xmlns:xsi
 *   (the signature layout requires both on the root, customs-domain §4). Every head has its own guid.
 * - BaseTransfer is the sender identity from ctx.sender; dxpMode is always "DXP".
 * - No ds:Signature: src/signing adds it as the root's last child (import) or before ExtendMessage
 *   (export, which we never write).
 * - Every problem with the data is collected (format, length, missing value) and thrown together as
 *   a MessageBuildError; nothing is half-written. The order should have passed parseBaygateOrder and
 *   the business rules first; these checks are the last line that keeps an invalid message from being
 *   signed.
 */

/** Who transmits the message (BaseTransfer): our E-port registration, not the order's companies. */
export interface SenderIdentity {
  /** Customs code of the transmitting company (copCode, max 18). */
  copCode: string;
  /** Its registered name (copName, max 100). */
  copName: string;
  /** DXP user number assigned by the E-port data centre (dxpId, max 30). */
  dxpId: string;
  /** Optional BaseTransfer note. */
  note?: string;
}

export interface BuildOptions {
  /** appType: "1" new (default), "2" change, "3" delete. */
  appType?: '1' | '2' | '3';
  /** appStatus: "2" declare (default), "1" store only. */
  appStatus?: '1' | '2';
}

export interface BuildContext {
  sender: SenderIdentity;
  /** Root guid; a fresh upper-case UUID when absent. Pass one to make output reproducible. */
  guid?: string;
  /** Guid of the message's head; a fresh one when absent. */
  headGuid?: string;
  /** Time used for appTime (and CEB621 declTime) when the order/request has none; default: now. */
  now?: Date;
  options?: BuildOptions;
  /** Required for CEB623: the inventory number customs assigned and the reason. */
  cancel?: InventoryCancelRequest;
  /** Required for CEB625: inventory number, reason and the returned lines (default: everything). */
  refund?: InventoryRefundRequest;
}

export interface BuiltMessage {
  type: MessageType;
  /** Root guid (also the DXP CopMsgId candidate and the key receipts are matched by). */
  guid: string;
  /** Guid of the head element. */
  headGuid: string;
  /** Canonical XML, UTF-8 when encoded; no XML declaration. */
  xml: string;
}

export class MessageBuildError extends Error {
  constructor(
    public readonly type: MessageType,
    public readonly violations: BuildViolation[],
  ) {
    super(`cannot build ${type}:\n${violations.map((v) => `  ${v.element} (${v.source}): ${v.reason}`).join('\n')}`);
    this.name = 'MessageBuildError';
  }
}

/**
 * The mappings in mappings/messages, loaded and validated when this module is first imported, so a
 * process that can build messages (worker, API, CLI) refuses to start with a bad mapping file, naming
 * the file, the element path and the reason (MappingFileError). ~30 ms.
 */
const defaultMappings: Map<MappingKey, CompiledMapping> = loadMessageMappings();

export function messageMappings(): Map<MappingKey, CompiledMapping> {
  return defaultMappings;
}

function mappingFor(
  type: MessageType,
  order: BaygateOrder,
  mappings: Map<MappingKey, CompiledMapping>,
): CompiledMapping {
  const key: MappingKey = type === 'CEB621' ? `CEB621-${order.tradeMode}` : type;
  const hit = mappings.get(key);
  if (!hit) throw new Error(`no message mapping for ${key} in mappings/messages`);
  return hit;
}

const Q = CEB_PREFIX + ':';

function writeNodes(
  nodes: CompiledNode[],
  scope: MappingScope,
  w: CanonicalXmlWriter,
  path: string,
  out: BuildViolation[],
): void {
  for (const node of nodes) {
    if (node.kind === 'group') {
      if (node.forEach) {
        let entries: unknown;
        try {
          entries = node.forEach(scope);
        } catch (err) {
          out.push({
            element: `${path}${node.name}`,
            source: node.forEachSource ?? '',
            reason: (err as Error).message,
          });
          continue;
        }
        if (!Array.isArray(entries) || entries.length === 0) {
          out.push({
            element: `${path}${node.name}`,
            source: node.forEachSource ?? '',
            reason: 'needs at least one entry',
          });
          continue;
        }
        entries.forEach((item, i) => {
          const inner: MappingScope = { ...scope, item, itemLabel: `${node.forEachSource}[${i}]` };
          w.open(Q + node.name);
          writeNodes(node.children, inner, w, `${path}${node.name}[${i + 1}]/`, out);
          w.close(Q + node.name);
        });
      } else {
        w.open(Q + node.name);
        writeNodes(node.children, scope, w, `${path}${node.name}/`, out);
        w.close(Q + node.name);
      }
      continue;
    }
    let raw: unknown;
    try {
      raw = node.resolve(scope);
    } catch (err) {
      out.push({ element: path + node.name, source: node.describe(scope), reason: (err as Error).message });
      continue;
    }
    if (raw === undefined || raw === null || raw === '') {
      if (!node.optional)
        out.push({ element: path + node.name, source: node.describe(scope), reason: 'is required but has no value' });
      continue;
    }
    let text: string;
    try {
      text = node.format(raw);
    } catch (err) {
      if (!(err instanceof CebFormatError)) throw err;
      out.push({ element: path + node.name, source: node.describe(scope), reason: err.message });
      continue;
    }
    const problem = node.check(text);
    if (problem) {
      out.push({ element: path + node.name, source: node.describe(scope), reason: problem });
      continue;
    }
    w.leaf(Q + node.name, text);
  }
}

export function buildMessage(
  type: MessageType,
  order: BaygateOrder,
  ctx: BuildContext,
  mappings: Map<MappingKey, CompiledMapping> = messageMappings(),
): BuiltMessage {
  const wanted = EXPORT_MESSAGE_TYPES.includes(type) ? 'export' : 'import';
  if (order.direction !== wanted) {
    throw new MessageBuildError(type, [
      {
        element: '(message)',
        source: 'order.direction',
        reason: `${type} needs an ${wanted} order, got ${order.direction}`,
      },
    ]);
  }
  const violations: BuildViolation[] = [];
  if (type === 'CEB623' && !ctx.cancel)
    violations.push({
      element: '(message)',
      source: 'ctx.cancel',
      reason: 'CEB623 needs a cancel request (invtNo, reason)',
    });
  if (type === 'CEB625' && !ctx.refund)
    violations.push({
      element: '(message)',
      source: 'ctx.refund',
      reason: 'CEB625 needs a refund request (invtNo, reason, lines)',
    });
  const guid = ctx.guid ?? freshGuid();
  const headGuid = ctx.headGuid ?? freshGuid();
  for (const [name, value] of [
    ['ctx.guid', guid],
    ['ctx.headGuid', headGuid],
  ] as const) {
    try {
      assertCebGuid(value);
    } catch (err) {
      violations.push({
        element: name === 'ctx.guid' ? '@guid' : '(head)/guid',
        source: name,
        reason: (err as Error).message,
      });
    }
  }
  if (violations.length > 0) throw new MessageBuildError(type, violations);

  const compiled = mappingFor(type, order, mappings);
  const root = compiled.mapping.root;
  const scope: MappingScope = {
    order,
    item: undefined,
    itemLabel: 'item',
    ctx,
    message: { guid, headGuid, now: ctx.now ?? new Date() },
  };
  const w = new CanonicalXmlWriter();
  w.open(Q + root, { [CEB_PREFIX]: CEB_NS, xsi: XSI_NS }, { guid, version: '1.0' });
  writeNodes(compiled.children, scope, w, '', violations);
  w.close(Q + root);
  if (violations.length > 0) throw new MessageBuildError(type, violations);
  return { type, guid, headGuid, xml: w.toString() };
}
