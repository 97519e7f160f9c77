import { expect } from 'chai';
import type { Reply } from '../api/harness';
import { waitFor } from '../support/rabbitmq';
import {
  headersOf,
  orderOf,
  outcomes,
  receiptFor,
  signerFor,
  startSecuritySystem,
  type Caller,
  type SecuritySystem,
} from './support/system';

/**
 * Issue 12: every route listed in /openapi.json is tried by the four callers a tenant must be walled off
 * from — a seller of another tenant (seller-hk, on the victim's platform), a broker outside the victim's
 * sellers (broker-hk), a center answering for another center (GD2, which shares GD's receipt certificate)
 * and an unauthenticated caller — against the resources of one victim (seller-gd). Every route needs a
 * verdict in the table below: a route added without one fails this test, and so does a verdict for a
 * route that no longer exists. For each attempt: the expected answer (a clear 4xx problem, or 200 without
 * a trace of the victim), no marker of the victim's data in the reply, and nothing of the victim's stored
 * or moved. Where a route shows the victim's data to the victim's side, a control caller proves the
 * marker check would see it.
 */
type Attacker = 'otherSeller' | 'outsideBroker' | 'otherCenter' | 'anonymous';
const ATTACKERS: readonly Attacker[] = ['otherSeller', 'outsideBroker', 'otherCenter', 'anonymous'];

interface Victim {
  declarationIds: string[];
  ceb311: string;
  ceb621: string;
  orderNo: string;
  order: Record<string, unknown> & { orderNo: string; ebpCode: string; ebcCode: string };
  center: string;
  webhookId: string;
  webhookUrl: string;
  clashId: string;
  /** A declaration of the attacking seller, made after the victim's (the stream's replay reaches it last). */
  attackerDeclarationId: string;
}

interface Attempt {
  path: string;
  method?: string;
  json?: unknown;
  body?: string;
  type?: string;
}

/** 200 without the victim, or this status as a problem (with this code). */
type Expectation = { hides: true } | { status: number; code?: string };

interface Verdict {
  attempt: (v: Victim, as: Attacker) => Attempt | Promise<Attempt>;
  expect: Record<Attacker, Expectation>;
  /** A caller of the victim's side who sees the victim's data on this route (proves the check can fail). */
  control?: Caller;
}

const DENIED = { status: 401 } as const;
const FORBIDDEN = { status: 403 } as const;
const NOT_FOUND = { status: 404 } as const;
const HIDES = { hides: true } as const;
const PUBLIC: Verdict = {
  attempt: () => ({ path: '' }),
  expect: { otherSeller: HIDES, outsideBroker: HIDES, otherCenter: HIDES, anonymous: HIDES },
};
const publicRoute = (path: string): Verdict => ({ ...PUBLIC, attempt: () => ({ path }) });
const readers = (notYours: Expectation = NOT_FOUND): Record<Attacker, Expectation> => ({
  otherSeller: notYours,
  outsideBroker: notYours,
  otherCenter: FORBIDDEN,
  anonymous: DENIED,
});
const sellersOnly = (otherSeller: Expectation): Record<Attacker, Expectation> => ({
  otherSeller,
  outsideBroker: FORBIDDEN,
  otherCenter: FORBIDDEN,
  anonymous: DENIED,
});

let gdSigner: Awaited<ReturnType<typeof signerFor>>;

const VERDICTS: Record<string, Verdict> = {
  'GET /healthz': publicRoute('/healthz'),
  'GET /readyz': publicRoute('/readyz'),
  'GET /metrics': publicRoute('/metrics'),
  'GET /openapi.json': publicRoute('/openapi.json'),
  'GET /docs': publicRoute('/docs'),
  'GET /dashboard': publicRoute('/dashboard'),
  'GET /dashboard/': publicRoute('/dashboard/'),
  'GET /dashboard/index.html': publicRoute('/dashboard/index.html'),
  'GET /dashboard/app.js': publicRoute('/dashboard/app.js'),
  'GET /dashboard/style.css': publicRoute('/dashboard/style.css'),

  'POST /v1/orders': {
    // The victim's order number with an order of the attacker's own company.
    attempt: (v, as) => ({
      path: '/v1/orders',
      method: 'POST',
      json: as === 'otherSeller' ? orderOf('HK', { orderNo: v.orderNo }) : v.order,
    }),
    expect: sellersOnly({ status: 422, code: 'ORDER_NO_TAKEN' }),
  },
  'GET /v1/orders/{orderNo}/declarations': {
    attempt: (v) => ({ path: `/v1/orders/${encodeURIComponent(v.orderNo)}/declarations` }),
    expect: readers(),
    control: 'brokerGba',
  },
  'GET /v1/declarations': {
    // Asking for the victim by name is refused; asking for everything shows only the caller's own.
    attempt: (_v, as) => ({ path: as === 'anonymous' ? '/v1/declarations' : '/v1/declarations?limit=200' }),
    expect: readers(HIDES),
    control: 'brokerGba',
  },
  'GET /v1/declarations/{id}': {
    attempt: (v) => ({ path: `/v1/declarations/${v.ceb621}` }),
    expect: readers(),
    control: 'sellerGd',
  },
  'GET /v1/declarations/{id}/timeline': {
    attempt: (v) => ({ path: `/v1/declarations/${v.ceb621}/timeline` }),
    expect: readers(),
    control: 'brokerGba',
  },
  'POST /v1/declarations/{id}/cancel': {
    attempt: (v) => ({ path: `/v1/declarations/${v.ceb621}/cancel`, method: 'POST', json: { reason: '买家取消订单' } }),
    expect: sellersOnly(NOT_FOUND),
  },
  'POST /v1/declarations/{id}/return': {
    attempt: (v) => ({ path: `/v1/declarations/${v.ceb621}/return`, method: 'POST', json: { reason: '质量问题退货' } }),
    expect: sellersOnly(NOT_FOUND),
  },
  'POST /v1/receipts': {
    // A receipt for the victim's order, signed with the certificate GD and GD2 share.
    attempt: async (v) => ({
      path: '/v1/receipts',
      method: 'POST',
      body: await receiptFor(v.order, 'CEB311', '800', gdSigner),
      type: 'application/xml',
    }),
    expect: { otherSeller: FORBIDDEN, outsideBroker: FORBIDDEN, otherCenter: { status: 403 }, anonymous: DENIED },
  },
  'GET /v1/webhooks': {
    attempt: () => ({ path: '/v1/webhooks' }),
    expect: sellersOnly(HIDES),
    control: 'sellerGd',
  },
  'POST /v1/webhooks': {
    // The attacker registering the victim's own receiver gets nothing of the victim's (and a non-public
    // target is refused anyway).
    attempt: (v) => ({ path: '/v1/webhooks', method: 'POST', json: { url: v.webhookUrl } }),
    expect: sellersOnly({ status: 422, code: 'URL_NOT_ALLOWED' }),
  },
  'DELETE /v1/webhooks/{id}': {
    attempt: (v) => ({ path: `/v1/webhooks/${v.webhookId}`, method: 'DELETE' }),
    expect: sellersOnly(NOT_FOUND),
  },
  'GET /v1/webhooks/{id}/deliveries': {
    attempt: (v) => ({ path: `/v1/webhooks/${v.webhookId}/deliveries` }),
    expect: sellersOnly(NOT_FOUND),
    control: 'sellerGd',
  },
  'GET /v1/stream': {
    attempt: () => ({ path: '/v1/stream' }),
    expect: readers(HIDES),
    control: 'brokerGba',
  },
  'GET /v1/stats': {
    attempt: () => ({ path: '/v1/stats?stuckAfter=1&minutes=60' }),
    expect: readers(HIDES),
    control: 'brokerGba',
  },
  'GET /v1/order-clashes': {
    attempt: () => ({ path: '/v1/order-clashes' }),
    expect: readers(HIDES),
    control: 'brokerGba',
  },
  'POST /v1/order-clashes/{id}/resolve': {
    attempt: (v) => ({
      path: `/v1/order-clashes/${v.clashId}/resolve`,
      method: 'POST',
      json: { action: 'released', note: 'mine now' },
    }),
    expect: { otherSeller: FORBIDDEN, outsideBroker: FORBIDDEN, otherCenter: FORBIDDEN, anonymous: DENIED },
  },
};

describe('security: every route in /openapi.json has an isolation verdict, and keeps it', function () {
  this.timeout(180000);
  let s: SecuritySystem;
  let victim: Victim;
  let routes: string[];
  const callerOf = (as: Attacker): Caller =>
    ({
      otherSeller: 'sellerHk',
      outsideBroker: 'brokerHk',
      otherCenter: victim.center === 'GD' ? 'centerGd2' : 'centerGd',
      anonymous: 'anonymous',
    })[as] as Caller;

  before(async () => {
    s = await startSecuritySystem('isolation');
    gdSigner = await signerFor('center-gd');
    const order = orderOf('GD') as Victim['order'];
    const submitted = outcomes(await s.as('sellerGd', 'POST', '/v1/orders', { json: order }))[0]!;
    const ids = Object.fromEntries(submitted.declarations!.map((d) => [d.messageType, d.id]));
    const attacker = outcomes(await s.as('sellerHk', 'POST', '/v1/orders', { json: orderOf('HK') }))[0]!;
    const webhookUrl = 'https://hooks.seller-gd.example/baygate/events';
    const webhook = await s.webhooks.create('seller-gd', webhookUrl);
    // seller-mo holds a number seller-gd then tries: a clash of seller-gd's.
    const held = orderOf('MO');
    await s.as('sellerMo', 'POST', '/v1/orders', { json: held });
    const refused = await s.as('sellerGd', 'POST', '/v1/orders', {
      json: orderOf('GD', { orderNo: held.orderNo as string }),
    });
    const clashId = /clash ([0-9a-f]{32})/.exec(JSON.stringify(refused.body))![1]!;
    victim = {
      declarationIds: Object.values(ids),
      ceb311: ids.CEB311!,
      ceb621: ids.CEB621!,
      orderNo: order.orderNo,
      order,
      center: submitted.declarations![0]!.center,
      webhookId: webhook.id,
      webhookUrl,
      clashId,
      attackerDeclarationId: attacker.declarations![0]!.id,
    };
    // The stats count a declaration as stuck one second after its last change: the control must see it.
    await waitFor(
      async () => (await s.as('brokerGba', 'GET', '/v1/stats?stuckAfter=1')).text.includes(victim.ceb621),
      10000,
      "the victim's declarations stuck in the control's stats",
    );
    const doc = (await s.as('anonymous', 'GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
  });
  after(async () => {
    await gdSigner?.close();
    await s?.close();
  });

  it('has a verdict for exactly the routes /openapi.json lists', () => {
    expect(routes.length).to.be.greaterThan(20);
    expect(
      routes.filter((r) => !VERDICTS[r]),
      'routes without an isolation verdict',
    ).to.deep.equal([]);
    expect(
      Object.keys(VERDICTS).filter((r) => !routes.includes(r)),
      'verdicts for routes that are gone',
    ).to.deep.equal([]);
  });

  /** Everything of the victim's that an attack could store or move. */
  async function victimState(): Promise<string> {
    const views = await Promise.all(victim.declarationIds.map((id) => s.gateway.core.stores.declarations.findById(id)));
    const clash = await s.gateway.core.stores.orderNumbers.findClash(victim.clashId);
    return JSON.stringify({
      declarations: views.map((d) => [d?.id, d?.status, d?.history.length]),
      all: await s.count('declarations', { sellerId: 'seller-gd' }),
      receipts: await s.count('receipts'),
      webhooks: (await s.webhooks.list('seller-gd')).map((w) => [w.id, w.url]),
      clash: clash?.resolution ?? 'open',
    });
  }

  /** What must not appear in an answer to the attacker, beyond what the attacker itself sent. */
  function markers(sent: string): string[] {
    return [...victim.declarationIds, victim.webhookId, victim.webhookUrl, victim.clashId].filter(
      (m) => !sent.includes(m),
    );
  }

  async function send(caller: Caller, attempt: Attempt): Promise<Reply> {
    if (attempt.path.startsWith('/v1/stream')) return readStream(caller, attempt.path);
    return s.as(caller, attempt.method ?? 'GET', attempt.path, {
      ...(attempt.json !== undefined ? { json: attempt.json } : {}),
      ...(attempt.body !== undefined ? { body: attempt.body } : {}),
      ...(attempt.type ? { type: attempt.type } : {}),
    });
  }

  /** The event stream from the start (Last-Event-ID 0), read until the caller's own newest event, or refused. */
  async function readStream(caller: Caller, path: string): Promise<Reply> {
    const controller = new AbortController();
    const res = await fetch(s.base + path, {
      headers: { ...headersOf(caller), 'Last-Event-ID': '0'.repeat(24) },
      signal: controller.signal,
    });
    let text = '';
    if (res.ok && res.body) {
      const reader = res.body.getReader();
      const sentinel = caller === 'sellerHk' || caller === 'brokerHk' ? victim.attackerDeclarationId : victim.ceb621;
      const deadline = Date.now() + 10000;
      while (!text.includes(sentinel) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
      expect(text, `${caller} stream reached its own events`).to.contain(sentinel);
    } else text = await res.text();
    controller.abort();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // an event stream
    }
    return { status: res.status, headers: res.headers, body, text };
  }

  for (const [route, verdict] of Object.entries(VERDICTS)) {
    it(`${route}: ${ATTACKERS.map((a) => `${a} ${describe_(verdict.expect[a])}`).join(', ')}`, async () => {
      const before = await victimState();
      if (verdict.control) {
        const attempt = await verdict.attempt(victim, 'otherSeller');
        const seen = await send(verdict.control, attempt);
        expect(seen.status, `control ${verdict.control}`).to.equal(200);
        expect(
          markers('').some((m) => seen.text.includes(m)),
          `the control ${verdict.control} sees the victim's data on ${route}`,
        ).to.equal(true);
      }
      for (const as of ATTACKERS) {
        const attempt = await verdict.attempt(victim, as);
        const path = attempt.path || route.split(' ')[1]!;
        const reply = await send(callerOf(as), { ...attempt, path });
        const expected = verdict.expect[as];
        const what = `${route} as ${as} (${callerOf(as)}): ${reply.status} ${reply.text.slice(0, 300)}`;
        if ('hides' in expected) expect(reply.status, what).to.equal(200);
        else {
          expect(reply.status, what).to.equal(expected.status);
          expect(reply.headers.get('content-type'), what).to.match(/^application\/problem\+json/);
          if (expected.code) {
            const codes = [
              reply.body.code,
              ...((reply.body.errors as { code?: string }[] | undefined) ?? []).map((e) => e.code),
            ];
            expect(codes, what).to.include(expected.code);
          }
        }
        const sent = JSON.stringify(attempt) + path;
        for (const marker of markers(sent)) expect(reply.text, `${what} — discloses ${marker}`).not.to.contain(marker);
        expect(await victimState(), `${what} — changed the victim's data`).to.equal(before);
      }
    });
  }
});

function describe_(e: Expectation): string {
  return 'hides' in e ? 'sees nothing of it' : `${e.status}${e.code ? ` ${e.code}` : ''}`;
}
