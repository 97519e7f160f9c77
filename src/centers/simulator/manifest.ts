import { CEB_NS } from '../../xml/ceb-namespaces';
import { parseUntrustedXml, type XmlElement } from '../../xml/receipts/untrusted-xml';
import { isMessageType, type MessageType } from '../../domain/message-types';

/**
 * What the simulator reads from a declaration: its type, guids and the head fields (flat, by CEB element
 * name), plus the list lines. Parsing is the hardened untrusted-XML parser: a manifest is input from
 * outside like any other.
 */
export interface ManifestView {
  type: MessageType;
  /** Root guid attribute: the message guid (AMQP messageId, DXP CopMsgId). */
  guid: string;
  /** The head's own guid. */
  headGuid: string;
  head: Record<string, string>;
  lines: Record<string, string>[];
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const ENVELOPE_PARTS = new Set(['BaseTransfer', 'BaseSubscribe', 'ExtendMessage']);

function cebChildren(el: XmlElement): XmlElement[] {
  return el.children.filter((c) => c.ns === CEB_NS);
}

function leaves(el: XmlElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of cebChildren(el)) if (c.children.length === 0) out[c.local] = c.text.trim();
  return out;
}

/** The declared message type from a root element name, or undefined for anything else. */
export function messageTypeOfRoot(local: string): MessageType | undefined {
  const m = /^(CEB\d{3})Message$/.exec(local);
  return m && isMessageType(m[1] as string) ? (m[1] as MessageType) : undefined;
}

export function readManifest(xml: string): ManifestView {
  let root: XmlElement;
  try {
    root = parseUntrustedXml(xml);
  } catch (err) {
    throw new ManifestError(`manifest is not readable XML: ${(err as Error).message}`);
  }
  const type = root.ns === CEB_NS ? messageTypeOfRoot(root.local) : undefined;
  if (!type)
    throw new ManifestError(`root element {${root.ns ?? ''}}${root.local} is not a CEB declaration the centers accept`);
  const guid = root.attributes.guid?.trim();
  if (!guid) throw new ManifestError(`${root.local}: the guid attribute is missing`);
  const body = cebChildren(root).find((c) => !ENVELOPE_PARTS.has(c.local));
  if (!body) throw new ManifestError(`${root.local} has no body element`);
  const headEl = cebChildren(body).find((c) => c.local.endsWith('Head')) ?? body;
  const head = leaves(headEl);
  const lines = cebChildren(body)
    .filter((c) => c.local.endsWith('List'))
    .map(leaves);
  const headGuid = head.guid;
  if (!headGuid) throw new ManifestError(`${root.local}/${body.local}: the head has no guid`);
  return { type, guid, headGuid, head, lines };
}
