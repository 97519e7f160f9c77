import { DomainError, type ErrorCategory } from '../domain/errors';

/**
 * Who may answer for a declaration (issue 12, finding 3; docs/decisions/receipt-authority.md): the
 * authenticated center, the certificate that signed the receipt and the center the declaration was sent
 * to must all agree, and a receipt that fails is refused whole, before anything is stored.
 *
 * The signature authenticates the center when the certificate signs for that center alone (GD, HK, MO in
 * development). Where one certificate signs for several centers (GD and GD2 share one), only the
 * transport can tell them apart: the API key over HTTP, the RabbitMQ user (the validated user-id of a
 * center's `receiptsUser`) over AMQP. An AMQP receipt of a shared certificate from no known user is
 * refused — except in development, where the center named in the message header is taken (every
 * development process shares one RabbitMQ user).
 */
export class ReceiptRejectedError extends DomainError {
  readonly category: ErrorCategory;
  constructor(code: string, message: string, category: ErrorCategory = 'unprocessable') {
    super(code, message);
    this.category = category;
  }
}

/** Who sent a receipt, as the transport knows it. */
export interface ReceiptSender {
  via: 'http' | 'amqp';
  /** The center the sender is (authenticated) or says it is (a message header). */
  center?: string;
  /** Whether the transport authenticated `center` (an API key, a RabbitMQ user), or it is only a claim. */
  authenticated: boolean;
}

/**
 * The center this receipt answers for: the authenticated sender (whose certificate it must be), the one
 * center the certificate signs for, or — for a shared certificate from an unauthenticated sender — the
 * claimed one when `trustClaimedCenter` (development). Throws ReceiptRejectedError otherwise.
 */
export function answeringCenter(
  sender: ReceiptSender,
  signerCenters: readonly string[],
  options: { trustClaimedCenter: boolean },
): string {
  if (signerCenters.length === 0)
    throw new ReceiptRejectedError(
      'RECEIPT_SIGNER_NOT_A_CENTER',
      'the receipt is signed with a certificate no clearance center is configured to sign receipts with',
      'forbidden',
    );
  const claimed = sender.center;
  if (claimed !== undefined && !signerCenters.includes(claimed))
    throw new ReceiptRejectedError(
      'RECEIPT_SIGNER_NOT_OF_CENTER',
      `the receipt is not signed with clearance center ${claimed}'s receipt certificate`,
      'forbidden',
    );
  if (sender.authenticated && claimed !== undefined) return claimed;
  if (signerCenters.length === 1) return signerCenters[0]!;
  if (options.trustClaimedCenter && claimed !== undefined) return claimed;
  throw new ReceiptRejectedError(
    'RECEIPT_CENTER_UNAUTHENTICATED',
    `the receipt certificate signs for several centers (${signerCenters.join(', ')}) and the sender is not authenticated as one of them`,
    'forbidden',
  );
}

/** Every declaration a receipt matched must have been sent to the answering center. */
export function assertOwnDeclarations(center: string, matched: readonly ({ center: string } | null)[]): void {
  if (matched.some((d) => d !== null && d.center !== center))
    throw new ReceiptRejectedError(
      'RECEIPT_FOR_ANOTHER_CENTER',
      `the receipt answers declarations that were not sent to clearance center ${center}`,
      'forbidden',
    );
}
