import { expect } from 'chai';
import {
  centerKeyrings,
  isSealed,
  openPayload,
  PayloadSealError,
  sealPayload,
  type CenterKeyring,
} from '../../src/centers/payload-seal';

describe('centers: sealed manifests on the broker (AES-256-GCM per center)', () => {
  const rings = centerKeyrings({ NODE_ENV: 'development' }, [
    { code: 'GD', payload: 'sealed' },
    { code: 'HK', payload: 'sealed' },
  ]);
  const gd = rings.get('GD')!;
  const hk = rings.get('HK')!;
  const manifest = Buffer.from(
    '<ceb:CEB621Message guid="G1"><buyerIdNumber>440524188001010014</buyerIdNumber></ceb:CEB621Message>',
  );

  it('seals so that nothing of the manifest shows, and opens for the same center and message only', () => {
    const sealed = sealPayload(gd, 'G1', manifest);
    expect(isSealed(sealed)).to.equal(true);
    expect(sealed.includes(Buffer.from('440524188001010014'))).to.equal(false);
    expect(sealed.includes(Buffer.from('CEB621'))).to.equal(false);
    expect(openPayload(gd, 'G1', sealed).equals(manifest)).to.equal(true);
    // Two seals of the same manifest differ (fresh nonce).
    expect(sealPayload(gd, 'G1', manifest).equals(sealed)).to.equal(false);
    const refuses = (ring: CenterKeyring, id: string, bytes: Buffer) =>
      expect(() => openPayload(ring, id, bytes)).to.throw(PayloadSealError);
    refuses(hk, 'G1', sealed); // another center's key
    refuses({ center: 'HK', keys: gd.keys }, 'G1', sealed); // the right key, moved to another center's queue
    refuses(gd, 'G2', sealed); // another message id
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 20]! ^= 1;
    refuses(gd, 'G1', tampered);
    refuses(gd, 'G1', sealed.subarray(0, 20));
    expect(isSealed(manifest)).to.equal(false);
  });

  it('rotates: the newest key seals, an older one still opens', () => {
    const k = (n: number) => Buffer.alloc(32, n).toString('base64');
    const old = centerKeyrings({ NODE_ENV: 'production', CENTER_PAYLOAD_KEYS: `GD:k1:${k(1)}` }, [
      { code: 'GD', payload: 'sealed' },
    ]).get('GD')!;
    const rotated = centerKeyrings({ NODE_ENV: 'production', CENTER_PAYLOAD_KEYS: `GD:k2:${k(2)},GD:k1:${k(1)}` }, [
      { code: 'GD', payload: 'sealed' },
    ]).get('GD')!;
    const before = sealPayload(old, 'G1', manifest);
    expect(openPayload(rotated, 'G1', before).equals(manifest)).to.equal(true);
    expect(() => openPayload(old, 'G1', sealPayload(rotated, 'G1', manifest))).to.throw(/key "k2"/);
  });

  it('in production, a sealed center without its own key is a configuration error; a clear one needs none', () => {
    expect(() => centerKeyrings({ NODE_ENV: 'production' }, [{ code: 'GD', payload: 'sealed' }])).to.throw(
      /center GD .* CENTER_PAYLOAD_KEYS has no key/,
    );
    expect(centerKeyrings({ NODE_ENV: 'production' }, [{ code: 'GD', payload: 'clear' }]).size).to.equal(0);
    expect(() => centerKeyrings({ NODE_ENV: 'test', CENTER_PAYLOAD_KEYS: 'GD:k1:c2hvcnQ=' }, [])).to.throw(
      /CODE:keyId:base64\(32 bytes\)/,
    );
  });
});
