import type { BaygateOrder, InventoryCancelRequest, InventoryRefundRequest } from '../domain/order';
import type { ExportReturnRequest, LogisticsStatusRequest } from '../domain/requests';
import type { Shipment, SummaryApplication } from '../domain/shipment';
import { CanonicalXmlWriter } from '../xml/canonical-writer';
import { CEB_NS, CEB_PREFIX, XSI_NS } from '../xml/ceb-namespaces';
import { assertCebGuid, CebFormatError } from '../xml/ceb-formats';
import { freshGuid, type MappingScope } from './message-functions';
import { loadMessageMappings, type BuildViolation, type CompiledMapping, type CompiledNode } from './message-mapper';
import { MESSAGE_INPUT, messageDirection, type MappingKey, type MessageType } from '../domain/message-types';

/**
 * One input → one unsigned CEB declaration, as canonical XML (see src/xml/canonical-writer.ts for the
 * byte-level invariants the signing layer relies on):
 *
 *   buildMessage(type, order: BaygateOrder, ctx): BuiltMessage                 order messages
 *   buildShipmentMessage(type, shipment: Shipment, ctx): BuiltMessage          CEB507/509/607/711
 *   buildSummaryMessage(type, summary: SummaryApplication, ctx): BuiltMessage  CEB701
 *
 * - Element order, fixed codes and sources come from mappings/messages/<type>.json (CEB621: one file
 *   per trade mode, chosen by order.tradeMode); the file says which input and which request it needs.
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
  /** Required for CEB213 and CEB215: the export return (original invtNo, reason, inbound transport, lines). */
  exportReturn?: ExportReturnRequest;
  /** Required for CEB513: when the parcel was signed for. */
  logisticsStatus?: LogisticsStatusRequest;
}

/** What a message is built from (its mapping file's `input`). */
export type MessageInput =
  | { kind: 'order'; order: BaygateOrder }
  | { kind: 'shipment'; shipment: Shipment }
  | { kind: 'summary'; summary: SummaryApplication };

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
  input: MessageInput,
  mappings: Map<MappingKey, CompiledMapping>,
): CompiledMapping {
  const key: MappingKey = type === 'CEB621' && input.kind === 'order' ? `CEB621-${input.order.tradeMode}` : type;
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
        if (node.optional && (entries === undefined || (Array.isArray(entries) && entries.length === 0))) continue;
        if (!Array.isArray(entries) || entries.length === 0) {
          out.push({
            element: `${path}${node.name}`,
            source: node.forEachSource ?? '',
            reason: 'needs at least one entry',
          });
          continue;
        }
        entries.forEach((item, i) => {
          const inner: MappingScope = { ...scope, item, position: i + 1, itemLabel: `${node.forEachSource}[${i}]` };
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

/** The request each message type's file declares, and what to call it in errors. */
const REQUEST_NAMES = {
  cancel: 'a cancel request (invtNo, reason)',
  refund: 'a refund request (invtNo, reason, lines)',
  exportReturn: 'an export return request (invtNo, reason, copNo, inbound transport)',
  logisticsStatus: 'a logistics status (logisticsTime)',
} as const;

function directionOf(input: MessageInput): 'import' | 'export' {
  return input.kind === 'order'
    ? input.order.direction
    : input.kind === 'shipment'
      ? input.shipment.direction
      : 'export';
}

/** Builds any message type from its input; the three exported builders below name the input kind. */
export function buildFromInput(
  type: MessageType,
  input: MessageInput,
  ctx: BuildContext,
  mappings: Map<MappingKey, CompiledMapping> = messageMappings(),
): BuiltMessage {
  const needs = MESSAGE_INPUT[type];
  if (input.kind !== needs) {
    throw new MessageBuildError(type, [
      {
        element: '(message)',
        source: input.kind,
        reason: `${type} is built from a ${needs}, not from a ${input.kind}`,
      },
    ]);
  }
  const wanted = messageDirection(type);
  const direction = directionOf(input);
  if (direction !== wanted) {
    throw new MessageBuildError(type, [
      {
        element: '(message)',
        source: `${input.kind}.direction`,
        reason: `${type} needs an ${wanted} ${input.kind}, got ${direction}`,
      },
    ]);
  }
  const compiled = mappingFor(type, input, mappings);
  const violations: BuildViolation[] = [];
  const request = compiled.mapping.request;
  if (request && !ctx[request])
    violations.push({
      element: '(message)',
      source: `ctx.${request}`,
      reason: `${type} needs ${REQUEST_NAMES[request]}`,
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

  const root = compiled.mapping.root;
  const scope: MappingScope = {
    ...(input.kind === 'order'
      ? { order: input.order }
      : input.kind === 'shipment'
        ? { shipment: input.shipment }
        : { summary: input.summary }),
    item: undefined,
    position: 0,
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

export function buildMessage(
  type: MessageType,
  order: BaygateOrder,
  ctx: BuildContext,
  mappings?: Map<MappingKey, CompiledMapping>,
): BuiltMessage {
  return buildFromInput(type, { kind: 'order', order }, ctx, mappings);
}

export function buildShipmentMessage(
  type: MessageType,
  shipment: Shipment,
  ctx: BuildContext,
  mappings?: Map<MappingKey, CompiledMapping>,
): BuiltMessage {
  return buildFromInput(type, { kind: 'shipment', shipment }, ctx, mappings);
}

export function buildSummaryMessage(
  type: MessageType,
  summary: SummaryApplication,
  ctx: BuildContext,
  mappings?: Map<MappingKey, CompiledMapping>,
): BuiltMessage {
  return buildFromInput(type, { kind: 'summary', summary }, ctx, mappings);
}
