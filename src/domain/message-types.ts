/**
 * The declarations Baygate builds: every outbound message of the 2022-05 specification. CEB621 has two
 * mapping variants chosen by the order's trade mode (9610 direct purchase, 1210 bonded); every other type
 * has one. Each type is built from one kind of input (MESSAGE_INPUT): a Baygate order (with a request for
 * the types that need data the order does not have yet), a shipment (the transport messages of many
 * parcels), or a summary application.
 */
export const MESSAGE_TYPES = [
  // import (keep them first: the direction of a type is which part of this list it is in)
  'CEB311',
  'CEB411',
  'CEB511',
  'CEB513',
  'CEB621',
  'CEB623',
  'CEB625',
  'CEB711',
  // export
  'CEB303',
  'CEB403',
  'CEB505',
  'CEB507',
  'CEB509',
  'CEB603',
  'CEB605',
  'CEB607',
  'CEB701',
  'CEB213',
  'CEB215',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export function isMessageType(value: string): value is MessageType {
  return (MESSAGE_TYPES as readonly string[]).includes(value);
}

/** What a message is built from: one order, one shipment (many parcels), or one summary application. */
export type MessageInputKind = 'order' | 'shipment' | 'summary';

export const MESSAGE_INPUT: Readonly<Record<MessageType, MessageInputKind>> = {
  CEB311: 'order',
  CEB411: 'order',
  CEB511: 'order',
  CEB513: 'order',
  CEB621: 'order',
  CEB623: 'order',
  CEB625: 'order',
  CEB711: 'shipment',
  CEB303: 'order',
  CEB403: 'order',
  CEB505: 'order',
  CEB507: 'shipment',
  CEB509: 'shipment',
  CEB603: 'order',
  CEB605: 'order',
  CEB607: 'shipment',
  CEB701: 'summary',
  CEB213: 'order',
  CEB215: 'order',
};

/** Import declarations come first in MESSAGE_TYPES, then export ones (CEB303 is the first export type). */
const FIRST_EXPORT = MESSAGE_TYPES.indexOf('CEB303');

export function messageDirection(type: MessageType): 'import' | 'export' {
  return MESSAGE_TYPES.indexOf(type) >= FIRST_EXPORT ? 'export' : 'import';
}

export const IMPORT_MESSAGE_TYPES: readonly MessageType[] = MESSAGE_TYPES.slice(0, FIRST_EXPORT);
export const EXPORT_MESSAGE_TYPES: readonly MessageType[] = MESSAGE_TYPES.slice(FIRST_EXPORT);

/** The message types of one direction built from one kind of input, in MESSAGE_TYPES order. */
export function messageTypesFor(direction: 'import' | 'export', input: MessageInputKind): MessageType[] {
  return MESSAGE_TYPES.filter((t) => messageDirection(t) === direction && MESSAGE_INPUT[t] === input);
}

/** Key of one mapping file: the type, plus the trade mode for CEB621. */
export type MappingKey = MessageType | 'CEB621-9610' | 'CEB621-1210';
