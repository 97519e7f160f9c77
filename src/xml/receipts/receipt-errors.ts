/** Why an incoming message was refused. Stable codes: callers branch on them and metrics count them. */
export type ReceiptErrorCode =
  | 'XML_TOO_LARGE'
  | 'XML_DOCTYPE_FORBIDDEN'
  | 'XML_TOO_DEEP'
  | 'XML_MALFORMED'
  | 'XML_ENCODING_UNSUPPORTED'
  | 'RECEIPT_UNKNOWN_TYPE'
  | 'RECEIPT_TOO_MANY_RETURNS'
  | 'RECEIPT_INVALID';

export class ReceiptParseError extends Error {
  constructor(
    public readonly code: ReceiptErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'ReceiptParseError';
  }
}
