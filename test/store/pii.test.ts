import { expect } from 'chai';
import { maskIdNumber, normaliseForIndex, parseKeyRing, PiiError, PiiVault } from '../../src/store/pii';
import { HASH_KEY, KEY_NEW, KEY_OLD } from './store-fixtures';

describe('PII vault (AES-256-GCM envelope, key ring, blind index)', () => {
  const ring = (spec: string) => new PiiVault(parseKeyRing(spec), Buffer.from(HASH_KEY, 'base64'));
  const rotated = ring(`${KEY_NEW},${KEY_OLD}`);
  const before = ring(KEY_OLD);

  it('seals with the newest key and opens what it sealed, in the same context only', () => {
    const sealed = rotated.sealJson({ buyerName: '张三', phone: '13800138000' }, 'declarations/a/order');
    expect(sealed.k).to.equal('k2026');
    expect(sealed.iv).to.have.length(12);
    expect(sealed.tag).to.have.length(16);
    expect(sealed.ct.toString('utf8')).to.not.include('13800138000');
    expect(rotated.openJson(sealed, 'declarations/a/order')).to.deep.equal({ buyerName: '张三', phone: '13800138000' });
    // Ciphertext moved to another document or field: authentication fails.
    expect(() => rotated.openJson(sealed, 'declarations/b/order')).to.throw(PiiError, /failed authentication/);
    expect(() => rotated.openJson(sealed, 'declarations/a/manifest')).to.throw(PiiError, /failed authentication/);
  });

  it('uses a fresh IV every time (the same value never gives the same ciphertext)', () => {
    const a = rotated.sealText('440524188001010014', 'x');
    const b = rotated.sealText('440524188001010014', 'x');
    expect(a.iv.equals(b.iv)).to.equal(false);
    expect(a.ct.equals(b.ct)).to.equal(false);
  });

  it('opens values sealed before a rotation with the old key, and reencrypt moves them to the new key', () => {
    const old = before.sealText('广东省广州市天河区体育西路 1 号', 'declarations/a/order');
    expect(old.k).to.equal('k2025');
    expect(rotated.needsRotation(old)).to.equal(true);
    expect(rotated.openText(old, 'declarations/a/order')).to.equal('广东省广州市天河区体育西路 1 号');
    const moved = rotated.reencrypt(old, 'declarations/a/order');
    expect(moved.k).to.equal('k2026');
    expect(rotated.needsRotation(moved)).to.equal(false);
    expect(rotated.openText(moved, 'declarations/a/order')).to.equal('广东省广州市天河区体育西路 1 号');
    // The old key alone cannot open what the new key sealed, and a ring without the old key names it.
    expect(() => before.openText(moved, 'declarations/a/order')).to.throw(
      PiiError,
      /"k2026", which is not in PII_KEYS/,
    );
    expect(() => ring(KEY_NEW).openText(old, 'declarations/a/order')).to.throw(PiiError, /k2025/);
    expect(() => rotated.reencrypt(old, 'declarations/other/order')).to.throw(PiiError, /failed authentication/);
  });

  it('deflates large values before sealing, and the compression flag cannot be flipped', () => {
    const big = JSON.stringify({
      items: Array.from({ length: 40 }, (_, i) => ({
        gnum: i + 1,
        itemName: '婴幼儿配方奶粉 3段 900g',
        buyer: '张三',
      })),
    });
    const sealed = rotated.sealText(big, 'ctx');
    expect(sealed.z).to.equal('d');
    expect(sealed.ct.length).to.be.lessThan(Buffer.byteLength(big) / 4);
    expect(rotated.openText(sealed, 'ctx')).to.equal(big);
    const { z: _z, ...flagRemoved } = sealed;
    expect(() => rotated.openText(flagRemoved, 'ctx')).to.throw(PiiError, /failed authentication/);
    const small = rotated.sealText('13800138000', 'ctx');
    expect(small).to.not.have.property('z');
    expect(() => rotated.openText({ ...small, z: 'd' }, 'ctx')).to.throw(PiiError, /failed authentication/);
    expect(() => rotated.openText({ ...small, z: 'x' }, 'ctx')).to.throw(PiiError, /unknown compression flag/);
  });

  it('detects tampering with the ciphertext, the tag, the IV or the key id', () => {
    const sealed = rotated.sealText('13800138000', 'ctx');
    const flip = (b: Buffer) => Buffer.from(b.map((x, i) => (i === 0 ? x ^ 1 : x)));
    expect(() => rotated.openText({ ...sealed, ct: flip(sealed.ct) }, 'ctx')).to.throw(
      PiiError,
      /failed authentication/,
    );
    expect(() => rotated.openText({ ...sealed, tag: flip(sealed.tag) }, 'ctx')).to.throw(
      PiiError,
      /failed authentication/,
    );
    expect(() => rotated.openText({ ...sealed, iv: flip(sealed.iv) }, 'ctx')).to.throw(
      PiiError,
      /failed authentication/,
    );
    expect(() => rotated.openText({ ...sealed, k: 'k2025' }, 'ctx')).to.throw(PiiError, /failed authentication/);
    expect(() => rotated.openText({ ...sealed, iv: sealed.iv.subarray(0, 8) }, 'ctx')).to.throw(
      PiiError,
      /iv must be 12 bytes/,
    );
    expect(() => rotated.openText('not sealed', 'ctx')).to.throw(PiiError, /not a sealed value/);
  });

  it('reads sealed values back from Base64 (JSON) and from BSON-like binaries', () => {
    const sealed = rotated.sealText('李四', 'ctx');
    const asJson = JSON.parse(
      JSON.stringify({
        k: sealed.k,
        iv: sealed.iv.toString('base64'),
        tag: sealed.tag.toString('base64'),
        ct: sealed.ct.toString('base64'),
      }),
    ) as unknown;
    expect(rotated.openText(asJson, 'ctx')).to.equal('李四');
    const bsonLike = {
      k: sealed.k,
      iv: { buffer: new Uint8Array(sealed.iv) },
      tag: { buffer: new Uint8Array(sealed.tag) },
      ct: { buffer: new Uint8Array(sealed.ct) },
    };
    expect(rotated.openText(bsonLike, 'ctx')).to.equal('李四');
  });

  it('parses the key ring and names the bad entry', () => {
    expect(parseKeyRing(`${KEY_NEW},${KEY_OLD}`).map((k) => k.id)).to.deep.equal(['k2026', 'k2025']);
    expect(() => parseKeyRing('k1:' + Buffer.alloc(16).toString('base64'))).to.throw(
      PiiError,
      /entry 1 \("k1"\): key must be 32 bytes/,
    );
    expect(() => parseKeyRing(`${KEY_NEW},${KEY_NEW}`)).to.throw(PiiError, /appears twice/);
    expect(() => parseKeyRing('')).to.throw(PiiError, /at least one key/);
    expect(() => PiiVault.fromConfig({ PII_KEYS: KEY_NEW, PII_HASH_KEY: Buffer.alloc(8).toString('base64') })).to.throw(
      PiiError,
      /PII_HASH_KEY/,
    );
  });

  it('blind index: equal after normalisation, different across kinds and hash keys, and not the value', () => {
    const h = rotated.blindIndex('idNumber', '11010519491231002x');
    expect(h).to.match(/^[0-9a-f]{64}$/);
    expect(rotated.blindIndex('idNumber', ' 11010519491231002X ')).to.equal(h);
    expect(rotated.blindIndex('idNumber', '110105194912310021')).to.not.equal(h);
    expect(rotated.blindIndex('phone', '11010519491231002X')).to.not.equal(h);
    const otherKey = new PiiVault(parseKeyRing(KEY_NEW), Buffer.alloc(32, 1));
    expect(otherKey.blindIndex('idNumber', '11010519491231002X')).to.not.equal(h);
    expect(normaliseForIndex('phone', '+86 138-0013-8000')).to.equal('13800138000');
    expect(normaliseForIndex('name', '  Chan  Tai Man ')).to.equal('chan tai man');
  });

  it('masks ID numbers keeping region and last four', () => {
    expect(maskIdNumber('440524188001010014')).to.equal('4405**********0014');
    expect(maskIdNumber('11010519491231002X')).to.equal('1101**********002X');
    expect(maskIdNumber('A1234567')).to.equal('A******7');
    expect(maskIdNumber('123')).to.equal('***');
  });
});
