import { CanonicalXmlWriter } from '../xml/canonical-writer';
import { ReceiptParseError } from '../xml/receipts/receipt-errors';
import { parseUntrustedXml, type UntrustedXmlLimits, type XmlElement } from '../xml/receipts/untrusted-xml';

/**
 * The DXP transport envelope (customs-domain §6; schema dxp-terminal-2022.xsd, element DxpMsg):
 *
 *   <dxp:DxpMsg xmlns:dxp="http://www.chinaport.gov.cn/dxp" ver="1.0">
 *     <dxp:TransInfo> CopMsgId, SenderId, ReceiverIds/ReceiverId (1..5), CreatTime (xs:dateTime), MsgType </dxp:TransInfo>
 *     <dxp:Data> Base64 of the signed CEB message bytes (UTF-8) </dxp:Data>
 *   </dxp:DxpMsg>
 *
 * The CEB signature is inside Data and untouched by the envelope: unwrapping gives back the exact bytes.
 * Unwrapping treats the envelope as hostile input (size and depth limits, no DOCTYPE, strict Base64).
 */
export const DXP_NS = 'http://www.chinaport.gov.cn/dxp';

export interface DxpTransInfo {
  /** CopMsgId: the CEB message guid. */
  copMsgId: string;
  senderId: string;
  receiverIds: string[];
  /** CreatTime [sic]. */
  createdAt: Date;
  /** MsgType, e.g. "CEB621Message". */
  msgType: string;
}

export class DxpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DxpError';
  }
}

/** xs:dateTime in China Standard Time with an explicit offset, e.g. 2026-11-29T10:15:30+08:00. */
export function dxpDateTime(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00';
}

const ID_LIMIT = 16;

export function wrapDxp(signedCeb: string | Buffer, info: DxpTransInfo): string {
  if (info.receiverIds.length < 1 || info.receiverIds.length > 5)
    throw new DxpError(`DxpMsg needs 1–5 receiver ids, got ${info.receiverIds.length}`);
  for (const [name, value] of [
    ['SenderId', info.senderId],
    ...info.receiverIds.map((r) => ['ReceiverId', r]),
  ] as const) {
    if (value.length < 1 || value.length > ID_LIMIT)
      throw new DxpError(`${name} "${value}" must be 1–${ID_LIMIT} characters`);
  }
  if (info.copMsgId.length < 1 || info.copMsgId.length > 255) throw new DxpError('CopMsgId must be 1–255 characters');
  if (info.msgType.length > 30) throw new DxpError(`MsgType "${info.msgType}" is longer than 30 characters`);
  const bytes = typeof signedCeb === 'string' ? Buffer.from(signedCeb, 'utf8') : signedCeb;
  const w = new CanonicalXmlWriter();
  w.open('dxp:DxpMsg', { dxp: DXP_NS }, { ver: '1.0' });
  w.open('dxp:TransInfo');
  w.leaf('dxp:CopMsgId', info.copMsgId).leaf('dxp:SenderId', info.senderId);
  w.open('dxp:ReceiverIds');
  for (const r of info.receiverIds) w.leaf('dxp:ReceiverId', r);
  w.close('dxp:ReceiverIds');
  w.leaf('dxp:CreatTime', dxpDateTime(info.createdAt)).leaf('dxp:MsgType', info.msgType);
  w.close('dxp:TransInfo');
  w.leaf('dxp:Data', bytes.toString('base64'));
  w.close('dxp:DxpMsg');
  return w.toString();
}

export interface UnwrappedDxp {
  transInfo: DxpTransInfo;
  /** The wrapped message, decoded as UTF-8 (exactly the bytes that were wrapped). */
  message: string;
}

export const DEFAULT_DXP_LIMITS: UntrustedXmlLimits & { maxDataBytes: number } = {
  // Base64 inflates by 4/3; a CEB message is limited to 10 MiB by the verifier.
  maxBytes: 14 * 1024 * 1024,
  maxDepth: 16,
  maxDataBytes: 10 * 1024 * 1024,
};

function dxpChildren(el: XmlElement, local: string): XmlElement[] {
  return el.children.filter((c) => c.ns === DXP_NS && c.local === local);
}

function one(el: XmlElement, local: string, where: string): XmlElement {
  const hits = dxpChildren(el, local);
  if (hits.length !== 1) throw new DxpError(`${where}: expected one <${local}>, found ${hits.length}`);
  return hits[0] as XmlElement;
}

function text(el: XmlElement, local: string, where: string, max: number): string {
  const value = one(el, local, where).text.trim();
  if (value.length < 1 || value.length > max) throw new DxpError(`${where}/${local}: must be 1–${max} characters`);
  return value;
}

/** True when the bytes look like a DxpMsg envelope (cheap sniff; unwrapDxp does the real checks). */
export function looksLikeDxp(body: string | Buffer): boolean {
  const head = (typeof body === 'string' ? body.slice(0, 512) : body.subarray(0, 512).toString('utf8')).replace(
    /^\uFEFF/,
    '',
  );
  return /^(?:<\?xml[^>]*\?>\s*)?<(?:[A-Za-z_][\w.-]*:)?DxpMsg[\s>]/.test(head);
}

export function unwrapDxp(
  envelope: string | Buffer,
  limits: typeof DEFAULT_DXP_LIMITS = DEFAULT_DXP_LIMITS,
): UnwrappedDxp {
  let root: XmlElement;
  try {
    root = parseUntrustedXml(envelope, limits);
  } catch (err) {
    if (err instanceof ReceiptParseError) throw new DxpError(`DxpMsg refused: ${err.message}`);
    throw err;
  }
  if (root.ns !== DXP_NS || root.local !== 'DxpMsg')
    throw new DxpError(`root element {${root.ns ?? ''}}${root.local} is not {${DXP_NS}}DxpMsg`);
  if (root.attributes.ver !== '1.0') throw new DxpError(`DxpMsg ver must be "1.0", got "${root.attributes.ver ?? ''}"`);
  const trans = one(root, 'TransInfo', 'DxpMsg');
  const receiverIds = dxpChildren(one(trans, 'ReceiverIds', 'DxpMsg/TransInfo'), 'ReceiverId').map((r) =>
    r.text.trim(),
  );
  if (receiverIds.length < 1 || receiverIds.length > 5)
    throw new DxpError(`DxpMsg/TransInfo/ReceiverIds: expected 1–5 ReceiverId, found ${receiverIds.length}`);
  const created = text(trans, 'CreatTime', 'DxpMsg/TransInfo', 40);
  const createdAt = new Date(created);
  if (Number.isNaN(createdAt.getTime()))
    throw new DxpError(`DxpMsg/TransInfo/CreatTime "${created}" is not an xs:dateTime`);
  const msgTypeEl = one(trans, 'MsgType', 'DxpMsg/TransInfo');
  const transInfo: DxpTransInfo = {
    copMsgId: text(trans, 'CopMsgId', 'DxpMsg/TransInfo', 255),
    senderId: text(trans, 'SenderId', 'DxpMsg/TransInfo', ID_LIMIT),
    receiverIds,
    createdAt,
    msgType: msgTypeEl.text.trim(),
  };
  const data = one(root, 'Data', 'DxpMsg').text.replace(/\s+/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(data))
    throw new DxpError('DxpMsg/Data is not valid Base64');
  if ((data.length / 4) * 3 > limits.maxDataBytes)
    throw new DxpError(`DxpMsg/Data exceeds ${limits.maxDataBytes} bytes`);
  let message: string;
  try {
    message = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(data, 'base64'));
  } catch {
    throw new DxpError('DxpMsg/Data does not decode to UTF-8 text');
  }
  return { transInfo, message };
}
