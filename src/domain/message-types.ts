/**
 * The declarations Baygate builds. CEB621 has two mapping variants chosen by the order's trade mode
 * (9610 direct purchase, 1210 bonded); every other type has one.
 */
export const MESSAGE_TYPES = [
  'CEB311',
  'CEB411',
  'CEB511',
  'CEB621',
  'CEB623',
  'CEB625',
  'CEB303',
  'CEB505',
  'CEB603',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const IMPORT_MESSAGE_TYPES: readonly MessageType[] = [
  'CEB311',
  'CEB411',
  'CEB511',
  'CEB621',
  'CEB623',
  'CEB625',
];
export const EXPORT_MESSAGE_TYPES: readonly MessageType[] = ['CEB303', 'CEB505', 'CEB603'];

export function isMessageType(value: string): value is MessageType {
  return (MESSAGE_TYPES as readonly string[]).includes(value);
}

/** Key of one mapping file: the type, plus the trade mode for CEB621. */
export type MappingKey = MessageType | 'CEB621-9610' | 'CEB621-1210';
