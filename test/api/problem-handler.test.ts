import Router from '@koa/router';
import { expect } from 'chai';
import { MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { createApp } from '../../src/api/app';
import { isDatabaseUnavailable } from '../../src/api/middleware/problem-handler';
import type { RequestState } from '../../src/api/middleware/request-context';
import { listen } from '../../src/runtime/http-server';
import { silentLogger } from '../support/logger';

describe('error handler: database outages', () => {
  it("recognises the driver errors of a database that is away and FerretDB's SQLite busy answer", () => {
    expect(isDatabaseUnavailable(new MongoNetworkError('connection closed'))).to.equal(true);
    expect(
      isDatabaseUnavailable(
        new MongoServerSelectionError('no server', {
          type: 'Unknown',
          servers: new Map(),
          stale: false,
          compatible: true,
          heartbeatFrequencyMS: 0,
          localThresholdMS: 0,
          setName: null,
          maxElectionId: null,
          maxSetVersion: null,
          commonWireVersion: 0,
          logicalSessionTimeoutMinutes: null,
        } as never),
      ),
    ).to.equal(true);
    expect(isDatabaseUnavailable(new Error('database is locked (5) (SQLITE_BUSY)'))).to.equal(true);
    // What FerretDB answers for the commands it was running while it is being stopped.
    expect(
      isDatabaseUnavailable(
        new MongoServerError({
          ok: 0,
          errmsg:
            '[msg_insert.go:168 handler.(*Handler).MsgInsert] [db.go:134 fsql.(*DB).InTransaction] context canceled',
          code: 1,
          codeName: 'InternalError',
        }),
      ),
    ).to.equal(true);
    expect(
      isDatabaseUnavailable(new MongoServerError({ ok: 0, errmsg: 'E11000 duplicate key error', code: 11000 })),
    ).to.equal(false);
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).to.equal(false);
  });

  it('answers 503 problem+json with Retry-After when the database is away, 500 for a bug', async () => {
    const router = new Router<RequestState>();
    router.get('/db-away', () => {
      throw new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed');
    });
    router.get('/bug', () => {
      throw new TypeError('cannot read properties of undefined');
    });
    const http = await listen(createApp({ logger: silentLogger(), routers: [router] }), 0, '127.0.0.1');
    try {
      const away = await fetch(`http://127.0.0.1:${http.port}/db-away`);
      expect(away.status).to.equal(503);
      expect(away.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(away.headers.get('retry-after')).to.equal('5');
      expect(((await away.json()) as { detail: string }).detail).to.match(/database is not reachable/);
      const bug = await fetch(`http://127.0.0.1:${http.port}/bug`);
      expect(bug.status).to.equal(500);
      expect(JSON.stringify(await bug.json())).not.to.contain('cannot read');
    } finally {
      await http.close();
    }
  });
});
