import { z } from 'zod';

/**
 * Wire format of the E-port client ("客户端控件") that fronts a customs USB key on
 * `ws://127.0.0.1:61232`. Reconstructed from public integrations (the chinaport EportClient JS
 * library v1.3.1 and several open-source signing bridges); no official document is public.
 *
 * - One JSON object per WebSocket text frame.
 * - Request:  `{"_method":"cus-sec_SpcSignDataAsPEM","_id":7,"args":{"inData":"…","passwd":"…"}}`.
 *   `_id` is a per-connection counter chosen by the client.
 * - Response: `{"_id":7,"_method":"cus-sec_SpcSignDataAsPEM","_status":"00","_args":{"Result":true,
 *   "Data":["<Base64 signature>", …],"Error":[]}}`. `_status` "00" means the call reached the key;
 *   `_args.Result` says whether the key operation succeeded, `_args.Error` holds messages such as
 *   "Err:Custom50070". Some client versions omit `_id`, so we also match on `_method`, and we keep a
 *   single request in flight per connection (the key itself is sequential, ~250 signatures/minute).
 * - On connect some versions push `{"_method":"open",…}` first; it is ignored.
 * - The JS library splits requests over 120 KiB into "BLOCKTXT" frames; we only ever send a SignedInfo
 *   (about 1 KiB), so that framing is not implemented.
 *
 * Methods used: `cus-sec_SpcSignDataAsPEM` (hash + sign `inData` as UTF-8: SHA-1/RSA or SM3/SM2 with
 * the default ID; Data[0] = Base64 signature, for SM2 raw r‖s), `cus-sec_SpcGetSignCertAsPEM`
 * (Data[0] = the signing certificate, Base64 DER, with or without PEM armour), `cus-sec_SpcGetCertNo`
 * (Data[0] = serial number, hex).
 */

export const UKEY_DEFAULT_URL = 'ws://127.0.0.1:61232';

export const UKEY_METHOD = {
  signData: 'cus-sec_SpcSignDataAsPEM',
  getSignCert: 'cus-sec_SpcGetSignCertAsPEM',
  getCertNo: 'cus-sec_SpcGetCertNo',
} as const;

export const ukeyRequestSchema = z.object({
  _method: z.string().min(1),
  _id: z.union([z.number(), z.string()]).optional(),
  args: z.record(z.string(), z.unknown()).optional(),
});
export type UKeyRequest = z.infer<typeof ukeyRequestSchema>;

export const ukeyResultSchema = z.object({
  Result: z.boolean(),
  Data: z.array(z.unknown()).default([]),
  Error: z.array(z.unknown()).default([]),
});
export type UKeyResult = z.infer<typeof ukeyResultSchema>;

export const ukeyResponseSchema = z.object({
  _id: z.union([z.number(), z.string()]).optional(),
  _method: z.string(),
  _status: z.string().optional(),
  _args: ukeyResultSchema,
});
export type UKeyResponse = z.infer<typeof ukeyResponseSchema>;
