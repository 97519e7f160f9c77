import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { DeclarationStore } from '../../store/contracts';
import { isEventId, replayEvents, type LiveEvent, type LiveEvents } from '../live-events';
import { registerRoute } from '../openapi';
import { readableSellers } from '../auth/policy';
import { problems } from '../problem';
import { principalOf, type RequestState } from '../state';

/**
 * `GET /v1/stream`: status changes as Server-Sent Events. Each event is
 *
 *   id: <history eventId>
 *   event: status
 *   data: {"declarationId":…,"orderNo":…,"messageType":…,"center":…,"status":…,"label":{…},"at":…}
 *
 * A client that reconnects with `Last-Event-ID` first gets what it missed (replayed from the store, at most
 * `replayMax` events per connection — the stream then ends and the client resumes from there), then the
 * live events. Delivery is at least once: a client may see an event twice around a reconnect.
 * Comment lines every `heartbeatMs` keep proxies from timing the connection out.
 * A client that does not read its stream is disconnected once `maxBufferedBytes` are waiting for it.
 */
export interface StreamRouteDeps {
  live: LiveEvents;
  declarations: Pick<DeclarationStore, 'eventsSince'>;
  /** Authentication and the access policy's check (auth.guard('declarations.read')). */
  auth: Middleware<RequestState>;
  heartbeatMs?: number;
  maxBufferedBytes?: number;
  /** Live events held while a replay runs; more and the client is asked to reconnect. */
  maxPendingEvents?: number;
  replayMax?: number;
  /** Reconnection delay the client is told (SSE `retry:`). */
  retryMs?: number;
}

export function formatSse(event: LiveEvent): string {
  const data = {
    declarationId: event.declarationId,
    orderNo: event.orderNo,
    messageType: event.messageType,
    center: event.center,
    status: event.status,
    label: event.label,
    at: event.at,
  };
  // JSON.stringify never emits a raw newline, so the data fits one `data:` line.
  return `id: ${event.id}\nevent: status\ndata: ${JSON.stringify(data)}\n\n`;
}

export function streamRoutes(deps: StreamRouteDeps): Router<RequestState> {
  const router = new Router<RequestState>();
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const maxBufferedBytes = deps.maxBufferedBytes ?? 1_000_000;
  const maxPendingEvents = deps.maxPendingEvents ?? 5_000;
  const replayMax = deps.replayMax ?? 10_000;

  router.get('/v1/stream', deps.auth, async (ctx) => {
    const readable = readableSellers(principalOf(ctx));
    const sellerIds = readable === 'all' ? undefined : [...readable];
    const lastEventIdRaw =
      ctx.get('Last-Event-ID') || (typeof ctx.query.lastEventId === 'string' ? ctx.query.lastEventId : '');
    const lastEventId = lastEventIdRaw.trim().toLowerCase();
    if (lastEventId !== '' && !isEventId(lastEventId)) {
      throw problems.badRequest('Last-Event-ID must be an event id this stream sent (24 hex digits).', [
        { path: 'header.Last-Event-ID', code: 'invalid_format', message: 'must be 24 hex digits' },
      ]);
    }

    const body = new PassThrough();
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.req.socket.setKeepAlive(true);
    ctx.status = 200;
    ctx.set('Content-Type', 'text/event-stream; charset=utf-8');
    ctx.set('Cache-Control', 'no-cache, no-transform');
    ctx.set('Connection', 'keep-alive');
    ctx.set('X-Accel-Buffering', 'no'); // nginx: do not buffer the stream
    ctx.body = body;

    let open = true;
    let live = false;
    const pending: LiveEvent[] = [];
    let overflowed = false;
    const sentDuringReplay = new Set<string>();
    let forgetReplayed: NodeJS.Timeout | undefined;

    const end = () => {
      if (!open) return;
      open = false;
      clearInterval(heartbeat);
      clearTimeout(forgetReplayed);
      unsubscribe();
      body.end();
    };
    const write = (chunk: string) => {
      if (!open) return;
      body.write(chunk);
      // The client is not reading: stop buffering for it and drop the connection (what is queued for it
      // goes too); it resumes with Last-Event-ID.
      if (body.writableLength > maxBufferedBytes) {
        ctx.state.log.warn({ buffered: body.writableLength }, 'event stream client too slow; disconnected');
        end();
        ctx.res.destroy();
      }
    };

    const heartbeat = setInterval(() => write(`: heartbeat ${new Date().toISOString()}\n\n`), heartbeatMs);
    heartbeat.unref();
    let unsubscribe: () => void = () => undefined;
    unsubscribe = deps.live.subscribe({
      ...(sellerIds ? { sellerIds } : {}),
      deliver: (event) => {
        // What the client says it has already seen, or got from the replay, is not sent again (the hub
        // re-reads a short overlap window, so its first polls can bring replayed entries once more).
        if (lastEventId && event.id <= lastEventId) return;
        if (sentDuringReplay.has(event.id)) return;
        if (live) return write(formatSse(event));
        if (pending.length < maxPendingEvents) pending.push(event);
        else overflowed = true;
      },
      close: end,
    });
    ctx.req.once('close', end);
    ctx.res.once('close', end);
    body.once('close', end);

    write(`retry: ${deps.retryMs ?? 3000}\n: connected\n\n`);
    if (sellerIds && sellerIds.length === 0) {
      live = true; // sees no seller: heartbeats only
      return;
    }

    let more = false;
    if (lastEventId) {
      try {
        const replay = await replayEvents(
          deps.declarations,
          lastEventId,
          sellerIds ? { sellerIds } : {},
          (event) => {
            sentDuringReplay.add(event.id);
            write(formatSse(event));
          },
          { max: replayMax },
        );
        more = replay.more;
      } catch (err) {
        ctx.state.log.warn({ err: (err as Error).message }, 'stream replay failed; client will retry');
        end();
        return;
      }
    }
    if (more || overflowed) {
      end(); // the client reconnects with the last id it got and continues from there
      return;
    }
    for (const event of pending) if (!sentDuringReplay.has(event.id)) write(formatSse(event));
    pending.length = 0;
    live = true;
    // After the hub's overlap window has passed, replayed ids can no longer come back: free them.
    if (sentDuringReplay.size > 0) forgetReplayed = setTimeout(() => sentDuringReplay.clear(), 10_000);
  });

  return router;
}

registerRoute({
  method: 'GET',
  path: '/v1/stream',
  summary: 'Live status changes (Server-Sent Events)',
  description:
    'text/event-stream. Each status change is `id: <eventId>`, `event: status`, `data: {"declarationId","orderNo","messageType","center","status","label","at"}`. ' +
    'Send `Last-Event-ID` (browsers do it on reconnect) to replay what was missed first; delivery is at least once. Comment lines every 15 s keep the connection alive. ' +
    'Only the sellers the key may see. EventSource cannot send an Authorization header: read the stream with fetch, or use `baygate watch`.',
  tags: ['broker'],
  access: 'declarations.read',
  headers: [{ name: 'Last-Event-ID', description: 'Resume after this event id (24 hex digits).' }],
  responses: {
    200: {
      description: 'The event stream (stays open).',
      content: {
        'text/event-stream': {
          schema: z.string(),
          example:
            'retry: 3000\n: connected\n\nid: 6748371e0000000000000004\nevent: status\ndata: {"declarationId":"0b6f3f0e-4c1a-4c7e-9d43-5a3c1f2e9a73","orderNo":"BG20261128GZ000101","messageType":"CEB621","center":"GD","status":"120","label":{"zh":"海关入库","en":"accepted into the customs system"},"at":"2026-11-28T09:30:04.000Z"}\n\n',
        },
      },
    },
    400: { description: 'Malformed Last-Event-ID.', problem: true },
  },
});
