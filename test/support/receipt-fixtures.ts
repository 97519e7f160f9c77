import type { MessageType } from '../../src/domain/message-types';

/**
 * What the signed receipt fixtures in test/fixtures/receipts/signed/ answer (written by
 * scripts/gen-receipt-fixtures.ts): for each declaration type, the statuses its receipts go through as the
 * specification's receipt tables list them, then a rejection (100); CEB701 also gets its CEB792 result.
 */
export const LIFECYCLES: Readonly<Partial<Record<MessageType, readonly string[]>>> = {
  CEB403: ['2', '3', '120', '100'],
  CEB507: ['2', '3', '399', '100'],
  CEB509: ['2', '3', '399', '100'],
  CEB513: ['2', '3', '120', '100'],
  CEB605: ['2', '3', '399', '100'],
  CEB607: ['2', '3', '120', '100'],
  CEB701: ['2', '3', '399', '100'],
  CEB213: ['2', '3', '120', '300', '500', '505', '600', '800', '100'],
  CEB215: ['2', '3', '399', '100'],
  CEB711: ['2', '3', '120', '399', '100'],
};

/** The message guid of the declaration each fixture answers: fixed per type. */
export function fixtureGuid(type: MessageType): string {
  return `A0B1C2D3-0000-4000-8000-000000000${type.slice(3)}`;
}
