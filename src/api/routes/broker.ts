import Router from '@koa/router';
import type { Middleware, ParameterizedContext } from 'koa';
import { z } from 'zod';
import { isTerminal, statusLabel, statusRank } from '../../domain/status';
import { MESSAGE_TYPES, type MessageType } from '../../domain/message-types';
import type {
  DeclarationFilter,
  DeclarationStore,
  DeclarationView,
  HistoryEntry,
  ReceiptStore,
  StoredReceipt,
} from '../../store/contracts';
import type { Principal, Role } from '../auth/principal';
import type { RequestState } from '../middleware/request-context';
import { registerRoute } from '../openapi';
import { problems } from '../problem';

/**
 * Broker views of declarations: a filtered, cursor-paginated list with counts per status, one declaration,
 * and its timeline with the receipts behind each step. Brokers see their sellers' declarations, sellers
 * their own, admins all. Responses are built field by field from an allow-list (never by spreading a
 * stored document), so personal data cannot reach a broker even if the store view grows a field.
 */

export type AuthedState = RequestState & { principal?: Principal };
export type AuthedContext = ParameterizedContext<AuthedState>;

/** Roles that may read declarations. Centers post receipts; they do not browse. */
export const READER_ROLES: readonly Role[] = ['seller', 'broker', 'admin'];

export function principalOf(ctx: { state: AuthedState }, roles: readonly Role[] = READER_ROLES): Principal {
  const principal = ctx.state.principal;
  if (!principal) throw problems.unauthorized();
  if (!roles.includes(principal.role)) throw problems.forbidden(`The ${principal.role} role cannot use this endpoint.`);
  return principal;
}

/** Sellers the principal may see: undefined = every seller (admin). A non-admin without sellers sees none. */
export function visibleSellers(principal: Principal): string[] | undefined {
  if (principal.role === 'admin') return undefined;
  return principal.sellerIds ?? (principal.role === 'seller' ? [principal.id] : []);
}

export function canSee(principal: Principal, sellerId: string): boolean {
  const visible = visibleSellers(principal);
  return visible === undefined || visible.includes(sellerId);
}

/**
 * Masks an identity number to its first 4 and last 4 characters (4405**********0014). Applied again to
 * what the store calls masked, so a clear number stored by mistake still leaves masked.
 */
export function maskIdNumber(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^[^*]{4}\*+[^*]{4}$/.test(value)) return value; // already masked
  const chars = [...value];
  if (chars.length <= 8) return '*'.repeat(chars.length);
  return chars.slice(0, 4).join('') + '*'.repeat(chars.length - 8) + chars.slice(-4).join('');
}

export interface DeclarationSummary {
  id: string;
  sellerId: string;
  platformCode: string;
  orderNo: string;
  messageType: MessageType;
  direction: string;
  tradeMode: string;
  customsCode: string;
  center: string;
  status: string;
  label: { zh: string; en: string };
  terminal: boolean;
  messageGuid?: string;
  attempts: number;
  lastError?: string;
  amountCny: number;
  buyerIdMasked?: string;
  createdAt: string;
  updatedAt: string;
}

/** The broker-safe form of a declaration (allow-list). */
export function toSummary(d: DeclarationView): DeclarationSummary {
  return {
    id: d.id,
    sellerId: d.sellerId,
    platformCode: d.platformCode,
    orderNo: d.orderNo,
    messageType: d.messageType,
    direction: d.direction,
    tradeMode: d.tradeMode,
    customsCode: d.customsCode,
    center: d.center,
    status: d.status,
    label: statusLabel(d.status),
    terminal: d.terminal ?? isTerminal(d.status, d.messageType),
    ...(d.messageGuid ? { messageGuid: d.messageGuid } : {}),
    attempts: d.attempts,
    ...(d.lastError ? { lastError: d.lastError } : {}),
    amountCny: d.amountCny,
    ...(d.buyerIdMasked ? { buyerIdMasked: maskIdNumber(d.buyerIdMasked) } : {}),
    createdAt: new Date(d.createdAt).toISOString(),
    updatedAt: new Date(d.updatedAt).toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Query parsing

const list = <T extends string>(item: z.ZodType<T, string>) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) =>
      (Array.isArray(v) ? v : [v])
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).max(50, 'at most 50 values'));

const statusValue = z
  .string()
  .regex(
    /^(accepted|signed|queued|delivered|failed|-?\d{1,7})$/,
    'must be a gateway status (accepted, signed, queued, delivered, failed) or a customs code such as 120 or -621005',
  );
const centerValue = z.string().regex(/^[A-Z][A-Z0-9]{1,9}$/, 'must be a center code such as GD or HK');
const sellerValue = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must be a seller id');
const messageTypeValue = z.enum(MESSAGE_TYPES, { error: `must be one of ${MESSAGE_TYPES.join(', ')}` });
const instant = z
  .string()
  .refine(
    (v) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v)),
    'must be an ISO 8601 date or date-time',
  )
  .transform((v) => new Date(v));

export const filterQuerySchema = z.object({
  status: list(statusValue).optional().describe('statuses, comma-separated (accepted, queued, 120, 899, -621005 …)'),
  center: list(centerValue).optional().describe('clearance center codes, comma-separated'),
  seller: list(sellerValue).optional().describe('seller ids, comma-separated (must be sellers the caller may see)'),
  messageType: list(messageTypeValue).optional().describe('message types, comma-separated (CEB311, CEB621 …)'),
  orderNo: z.string().min(1).max(64).optional().describe('exact order number'),
  from: instant.optional().describe('created at or after (ISO 8601)'),
  to: instant.optional().describe('created before (ISO 8601)'),
});

const listQuerySchema = filterQuerySchema.extend({
  limit: z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(50)
    .describe('page size, 1–200'),
  cursor: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[A-Za-z0-9_=.:-]+$/, 'is not a cursor this API issued')
    .optional(),
});

export type FilterQuery = z.output<typeof filterQuerySchema>;

/** Validates a query string against `schema`; a bad value is a 400 naming the parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({
      path: `query.${i.path.join('.')}`,
      code: i.code,
      message: i.message,
    }));
    throw problems.badRequest(
      `Invalid query parameter${errors.length > 1 ? 's' : ''}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}.`,
      errors,
    );
  }
  return parsed.data;
}

/**
 * The store filter for what this principal asked for and may see. Asking for a seller one does not serve
 * is refused (403) rather than silently answered with nothing.
 */
export function filterFor(principal: Principal, query: FilterQuery): DeclarationFilter {
  const visible = visibleSellers(principal);
  let sellerIds = visible;
  if (query.seller && query.seller.length > 0) {
    const foreign = visible === undefined ? [] : query.seller.filter((s) => !visible.includes(s));
    if (foreign.length > 0) throw problems.forbidden(`Not one of your sellers: ${foreign.join(', ')}.`);
    sellerIds = query.seller;
  }
  if (query.from && query.to && query.from > query.to)
    throw problems.badRequest('query.from must not be after query.to.', [
      { path: 'query.from', code: 'range', message: 'must not be after to' },
    ]);
  return {
    ...(sellerIds !== undefined ? { sellerIds } : {}),
    ...(query.status?.length ? { status: query.status } : {}),
    ...(query.center?.length ? { center: query.center } : {}),
    ...(query.messageType?.length ? { messageType: query.messageType } : {}),
    ...(query.orderNo ? { orderNo: query.orderNo } : {}),
    ...(query.from ? { from: query.from } : {}),
    ...(query.to ? { to: query.to } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Timeline

export interface TimelineReceipt {
  id: string;
  type: string;
  receivedAt: string;
  via: string;
  center?: string;
  signer?: { subject: string; serialHex: string; trustList?: string };
  /** The return of this receipt that answered this declaration. */
  returnStatus?: string;
  returnInfo?: string;
  returnTime?: string;
}

export interface TimelineStep {
  eventId: string;
  status: string;
  label: { zh: string; en: string };
  at: string;
  source: HistoryEntry['source'];
  info?: string;
  signer?: { subject: string; serialHex: string };
  documentKeys?: Record<string, string>;
  receiptId?: string;
  receipt?: TimelineReceipt;
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** The return of a receipt that matched this declaration (the receipt may answer up to 100 messages). */
function returnFor(receipt: StoredReceipt, declaration: DeclarationView, status: string): unknown {
  const byMatch = receipt.matched.findIndex((m) => m === declaration.id);
  if (byMatch >= 0) return receipt.returns[byMatch];
  const byGuid = receipt.returns.find(
    (r) => declaration.messageGuid && stringField(r, 'guid')?.toUpperCase() === declaration.messageGuid.toUpperCase(),
  );
  return (
    byGuid ??
    (receipt.returns.length === 1
      ? receipt.returns[0]
      : receipt.returns.find((r) => stringField(r, 'status') === status))
  );
}

export function toTimelineReceipt(
  receipt: StoredReceipt,
  declaration: DeclarationView,
  status: string,
): TimelineReceipt {
  const ret = returnFor(receipt, declaration, status);
  const returnStatus = stringField(ret, 'status') ?? stringField(ret, 'returnStatus');
  const returnInfo = stringField(ret, 'returnInfo');
  const returnTime = stringField(ret, 'returnTime');
  return {
    id: receipt.id,
    type: receipt.messageType,
    receivedAt: new Date(receipt.receivedAt).toISOString(),
    via: receipt.via,
    ...(receipt.center ? { center: receipt.center } : {}),
    ...(receipt.signer
      ? {
          signer: {
            subject: receipt.signer.subject,
            serialHex: receipt.signer.serialHex,
            ...(receipt.signer.trustList ? { trustList: receipt.signer.trustList } : {}),
          },
        }
      : {}),
    ...(returnStatus ? { returnStatus } : {}),
    ...(returnInfo ? { returnInfo } : {}),
    ...(returnTime ? { returnTime } : {}),
  };
}

export async function buildTimeline(
  declaration: DeclarationView,
  receipts: Pick<ReceiptStore, 'findById'>,
): Promise<TimelineStep[]> {
  const ids = [
    ...new Set(declaration.history.map((h) => h.receiptId).filter((id): id is string => typeof id === 'string')),
  ];
  const found = new Map<string, StoredReceipt | null>(
    await Promise.all(ids.map(async (id) => [id, await receipts.findById(id)] as const)),
  );
  // Steps in the order of the state machine: receipts are applied concurrently and may be recorded out of
  // order (a late 120 after 800), but a status only ever counts when it ranks higher, so rank order is the
  // declaration's real path. Same rank: by time, then id.
  const rank = (status: string) => {
    try {
      return statusRank(status);
    } catch {
      return Number.MAX_SAFE_INTEGER;
    }
  };
  return [...declaration.history]
    .sort(
      (a, b) =>
        rank(a.status) - rank(b.status) ||
        new Date(a.at).getTime() - new Date(b.at).getTime() ||
        (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0),
    )
    .map((h) => {
      const receipt = h.receiptId ? found.get(h.receiptId) : undefined;
      return {
        eventId: h.eventId,
        status: h.status,
        label: statusLabel(h.status),
        at: new Date(h.at).toISOString(),
        source: h.source,
        ...(h.info ? { info: h.info } : {}),
        ...(h.signer ? { signer: { subject: h.signer.subject, serialHex: h.signer.serialHex } } : {}),
        ...(h.documentKeys ? { documentKeys: { ...h.documentKeys } } : {}),
        ...(h.receiptId ? { receiptId: h.receiptId } : {}),
        ...(receipt ? { receipt: toTimelineReceipt(receipt, declaration, h.status) } : {}),
      };
    });
}

// ---------------------------------------------------------------------------------------------------------
// Routes

export interface BrokerRouteDeps {
  declarations: Pick<DeclarationStore, 'list' | 'countByStatus' | 'findById'>;
  receipts: Pick<ReceiptStore, 'findById'>;
  /** Authentication middleware: sets ctx.state.principal (or answers 401). */
  auth: Middleware<AuthedState>;
}

const ID = /^[A-Za-z0-9-]{1,64}$/;

export function brokerRoutes(deps: BrokerRouteDeps): Router<AuthedState> {
  const router = new Router<AuthedState>();

  router.get('/v1/declarations', deps.auth, async (ctx) => {
    const principal = principalOf(ctx);
    const query = parseQuery(listQuerySchema, ctx.query);
    const filter = filterFor(principal, query);
    if (filter.sellerIds && filter.sellerIds.length === 0) {
      ctx.body = { items: [], counts: {}, total: 0 };
      return;
    }
    const [page, counts] = await Promise.all([
      // A cursor of the right shape that this API never issued is the store's InvalidCursorError (400).
      deps.declarations.list(filter, { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) }),
      deps.declarations.countByStatus(filter),
    ]);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (page.nextCursor) {
      const next = new URL(ctx.href);
      next.searchParams.set('cursor', page.nextCursor);
      next.searchParams.set('limit', String(query.limit));
      ctx.set('Link', `<${next.pathname}${next.search}>; rel="next"`);
    }
    ctx.body = {
      items: page.items.map(toSummary),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      counts,
      total,
    };
  });

  const visibleDeclaration = async (ctx: AuthedContext, id: string): Promise<DeclarationView> => {
    const principal = principalOf(ctx);
    if (!ID.test(id)) throw problems.notFound('No such declaration.');
    const declaration = await deps.declarations.findById(id);
    // Another tenant's declaration answers exactly like a missing one: its existence is not disclosed.
    if (!declaration || !canSee(principal, declaration.sellerId)) throw problems.notFound('No such declaration.');
    return declaration;
  };

  router.get('/v1/declarations/:id/timeline', deps.auth, async (ctx) => {
    const declaration = await visibleDeclaration(ctx, ctx.params.id ?? '');
    ctx.body = { declaration: toSummary(declaration), steps: await buildTimeline(declaration, deps.receipts) };
  });

  return router;
}

// ---------------------------------------------------------------------------------------------------------
// OpenAPI

const labelSchema = z.object({ zh: z.string(), en: z.string() });
const timestamp = z.string().describe('ISO 8601 date-time');

export const declarationSummarySchema = z.object({
  id: z.string(),
  sellerId: z.string(),
  platformCode: z.string(),
  orderNo: z.string(),
  messageType: z.enum(MESSAGE_TYPES),
  direction: z.string(),
  tradeMode: z.string(),
  customsCode: z.string(),
  center: z.string(),
  status: z
    .string()
    .describe(
      'gateway step (accepted, signed, queued, delivered, failed) or customs returnStatus (e.g. 120, 899, -621005)',
    ),
  label: labelSchema.describe('status in Chinese (as customs writes it) and English'),
  terminal: z.boolean(),
  messageGuid: z.string().optional(),
  attempts: z.number().int(),
  lastError: z.string().optional(),
  amountCny: z.number(),
  buyerIdMasked: z
    .string()
    .optional()
    .describe('buyer ID number, first and last 4 characters only (4405**********0014)'),
  createdAt: timestamp,
  updatedAt: timestamp,
});

const listResponseSchema = z.object({
  items: z.array(declarationSummarySchema),
  nextCursor: z
    .string()
    .optional()
    .describe('pass as ?cursor= for the next page (also in the Link header, rel="next")'),
  counts: z
    .record(z.string(), z.number().int())
    .describe('declarations per status matching the same filter (all pages)'),
  total: z.number().int(),
});

const timelineReceiptSchema = z.object({
  id: z.string(),
  type: z.string().describe('receipt message type (CEB312, CEB622, …)'),
  receivedAt: timestamp,
  via: z.string(),
  center: z.string().optional(),
  signer: z
    .object({ subject: z.string(), serialHex: z.string(), trustList: z.string().optional() })
    .optional()
    .describe('the verified signer of the receipt'),
  returnStatus: z.string().optional(),
  returnInfo: z.string().optional(),
  returnTime: z.string().optional().describe('YYYYMMDDhhmmssSSS, Beijing time, as customs sent it'),
});

const timelineResponseSchema = z.object({
  declaration: declarationSummarySchema,
  steps: z.array(
    z.object({
      eventId: z.string(),
      status: z.string(),
      label: labelSchema,
      at: timestamp,
      source: z.enum(['api', 'worker', 'receipt', 'connector', 'sweeper']),
      info: z.string().optional(),
      signer: z.object({ subject: z.string(), serialHex: z.string() }).optional(),
      documentKeys: z.record(z.string(), z.string()).optional(),
      receiptId: z.string().optional(),
      receipt: timelineReceiptSchema.optional(),
    }),
  ),
});

const exampleSummary: z.infer<typeof declarationSummarySchema> = {
  id: '0b6f3f0e-4c1a-4c7e-9d43-5a3c1f2e9a73',
  sellerId: 'seller-gd',
  platformCode: '4401961A2B',
  orderNo: 'BG20261128GZ000101',
  messageType: 'CEB621',
  direction: 'import',
  tradeMode: '9610',
  customsCode: '5141',
  center: 'GD',
  status: '120',
  label: { zh: '海关入库', en: 'accepted into the customs system' },
  terminal: false,
  messageGuid: 'C2F1D3A4-5B6C-4D7E-8F90-1A2B3C4D5E6F',
  attempts: 1,
  amountCny: 318.5,
  buyerIdMasked: '4405**********0014',
  createdAt: '2026-11-28T09:30:00.000Z',
  updatedAt: '2026-11-28T09:30:04.120Z',
};

registerRoute({
  method: 'GET',
  path: '/v1/declarations',
  summary: 'Search declarations (filters, cursor pagination, counts per status)',
  description:
    'Newest first. Filters combine with AND; list-valued ones take comma-separated values or repeat. `counts` are per status for the same filter over all pages. ' +
    'Brokers see the sellers they serve, sellers their own, admins all; asking for a seller one does not serve is 403. No personal data: the buyer ID shows masked.',
  tags: ['broker'],
  roles: [...READER_ROLES],
  query: listQuerySchema,
  responses: {
    200: {
      description: 'One page of declarations.',
      headers: { Link: '<…?cursor=…>; rel="next" when there is a next page' },
      content: {
        'application/json': {
          schema: listResponseSchema,
          example: {
            items: [exampleSummary],
            nextCursor: 'eyJjIjoiMjAyNi0xMS0yOFQwOTozMDowMC4wMDBaIn0',
            counts: { '120': 1, accepted: 3 },
            total: 4,
          },
        },
      },
    },
    400: { description: 'Invalid query parameter (errors[].path names it, e.g. query.status.0).', problem: true },
  },
});

registerRoute({
  method: 'GET',
  path: '/v1/declarations/:id/timeline',
  summary: "A declaration's timeline: every status step with the receipt behind it",
  description:
    "Each step that came from a receipt carries the receipt id and type, its verified signer (subject, serial) and the customs text (returnInfo). Another tenant's declaration answers 404 like a missing one.",
  tags: ['broker'],
  roles: [...READER_ROLES],
  params: z.object({ id: z.string().min(1).max(64).describe('declaration id (UUID)') }),
  responses: {
    200: {
      description: 'The declaration and its steps, oldest first.',
      content: {
        'application/json': {
          schema: timelineResponseSchema,
          example: {
            declaration: exampleSummary,
            steps: [
              {
                eventId: '6748371a0000000000000001',
                status: 'accepted',
                label: { zh: '已受理', en: 'accepted' },
                at: '2026-11-28T09:30:00.000Z',
                source: 'api',
              },
              {
                eventId: '6748371e0000000000000004',
                status: '120',
                label: { zh: '海关入库', en: 'accepted into the customs system' },
                at: '2026-11-28T09:30:04.000Z',
                source: 'receipt',
                signer: { subject: 'CN=Guangdong Clearance Center', serialHex: '01691f7f' },
                receiptId: 'r-6748371e',
                receipt: {
                  id: 'r-6748371e',
                  type: 'CEB622',
                  receivedAt: '2026-11-28T09:30:04.120Z',
                  via: 'amqp',
                  center: 'GD',
                  signer: { subject: 'CN=Guangdong Clearance Center', serialHex: '01691f7f' },
                  returnStatus: '120',
                  returnInfo: '[Code:2600;Desc:放行]',
                  returnTime: '20261128173004000',
                },
              },
            ],
          },
        },
      },
    },
    404: { description: 'No such declaration, or not visible to the caller.', problem: true },
  },
});
