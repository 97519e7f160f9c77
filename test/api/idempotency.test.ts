import { expect } from 'chai';
import { requestHash } from '../../src/api/middleware/idempotency';

// The repository's own behaviour (taking, replaying, expiring keys) is tested in
// test/store/repositories/idempotency-keys.test.ts; the middleware end to end in orders.test.ts.
describe('api/middleware/idempotency', () => {
  it('the request fingerprint covers method, path, query, content type and body bytes', () => {
    const base = {
      method: 'POST',
      path: '/v1/orders',
      query: '',
      contentType: 'application/json',
      body: Buffer.from('{}'),
    };
    const h = requestHash(base);
    for (const change of [
      { method: 'PUT' },
      { path: '/v1/other' },
      { query: 'atomic=true' },
      { contentType: 'application/x-ndjson' },
      { body: Buffer.from('{ }') },
    ]) {
      expect(requestHash({ ...base, ...change }), JSON.stringify(change)).to.not.equal(h);
    }
  });
});
