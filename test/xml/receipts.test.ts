import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseReceipt, type ParsedReceipt } from '../../src/xml/receipts/parse-receipt';
import { ReceiptParseError, type ReceiptErrorCode } from '../../src/xml/receipts/receipt-errors';
import { RECEIPT_TYPES, type ReceiptType } from '../../src/xml/receipts/receipt-types';
import { describeReturnCode } from '../../src/xml/receipts/return-codes';
import { DEFAULT_XML_LIMITS } from '../../src/xml/receipts/untrusted-xml';
import { OFFICIAL_CEB_DIR, noteOfficialMissing } from './support/xsd-sequence';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'receipts');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));

function refusal(input: string | Buffer, options?: Parameters<typeof parseReceipt>[1]): ReceiptParseError {
  try {
    parseReceipt(input, options);
  } catch (err) {
    if (err instanceof ReceiptParseError) return err;
    throw err;
  }
  throw new Error('expected the receipt to be refused');
}

describe('receipt parser', () => {
  describe('official samples', () => {
    const samples: Array<{ side: string; type: ReceiptType }> = [
      ...(['CEB312', 'CEB412', 'CEB512', 'CEB514', 'CEB622', 'CEB624', 'CEB626', 'CEB712'] as const).map((type) => ({
        side: 'import',
        type,
      })),
      ...(['CEB304', 'CEB506', 'CEB604'] as const).map((type) => ({ side: 'export', type })),
    ];
    const available = existsSync(join(OFFICIAL_CEB_DIR, 'samples', 'import'));

    it('are all present (or the absence is reported)', () => {
      if (!available) {
        noteOfficialMissing();
        return;
      }
      const names = readdirSync(join(OFFICIAL_CEB_DIR, 'samples', 'import'));
      expect(names).to.include('CEB312Message.xml');
    });

    for (const { side, type } of samples) {
      it(`${type} (${side}, ${type === 'CEB312' || type === 'CEB622' ? 'default namespace' : 'as published'}) reads every return with its document keys`, function () {
        if (!available) return;
        const r = parseReceipt(readFileSync(join(OFFICIAL_CEB_DIR, 'samples', side, `${type}Message.xml`)));
        expect(r.type).to.equal(type);
        expect(r.side).to.equal(side);
        expect(r.returns).to.have.length(10);
        for (const ret of r.returns) {
          expect(ret.guid).to.have.length(36);
          expect(ret.returnTime).to.match(/^\d{17}$/);
          expect(ret.status).to.match(/^-?\d+$/);
          for (const key of Object.keys(ret.keys)) expect(RECEIPT_TYPES[type].keys).to.include(key);
        }
        const keys = r.returns[0]?.keys ?? {};
        if (type === 'CEB312' || type === 'CEB304') expect(keys.orderNo).to.match(/^order/);
        if (type === 'CEB412') expect(keys.payTransactionId).to.equal('P0321000433');
        if (type === 'CEB512' || type === 'CEB506' || type === 'CEB514') expect(keys.logisticsNo).to.match(/^L/);
        if (type === 'CEB622') expect(keys).to.include({ copNo: 'cop2016032211000', preNo: 'B20160512000001882' });
        if (type === 'CEB624') expect(keys.copNo).to.equal('cop2016032210052'); // the sample has a tab after it
        if (type === 'CEB626' || type === 'CEB604') expect(keys.invtNo).to.be.a('string');
        if (type === 'CEB712') expect(keys.rkdNo).to.equal('010220160308000008');
      });
    }
  });

  describe('hand-made fixtures', () => {
    it('reads the same returns from a default-namespace and an otherwise-prefixed receipt', () => {
      const a = parseReceipt(fixture('ceb312-default-namespace.xml'));
      const b = parseReceipt(fixture('ceb312-other-prefix.xml').toString('utf8'));
      expect(b).to.deep.equal(a);
      expect(a.returns[0]).to.deep.include({
        status: '120',
        statusText: '海关入库',
        returnInfo: '海关入库 & 待审 <A> 中',
      });
      expect(a.returns[0]?.keys).to.deep.equal({
        ebpCode: '4401961A2B',
        ebcCode: '4401960E01',
        orderNo: 'BG20261128GZ000001',
      });
    });

    it('keeps negative codes as errors with the specification meaning, and unknown ones as unknown', () => {
      const r: ParsedReceipt = parseReceipt(fixture('ceb622-negative-codes.xml'));
      expect(r.returns.map((x) => x.status)).to.deep.equal(['-621005', '-621018', '-621029', '-621999', '800']);
      expect(r.returns[0]?.error).to.deep.equal({
        code: '-621005',
        known: true,
        messages: ['清单[*]的购买金额超过单笔限额[[*]]'],
        category: 'inventory',
      });
      expect(r.returns[1]?.error?.messages[0]).to.contain('年度限额');
      expect(r.returns[1]?.returnInfo).to.contain('<年度>'); // CDATA read as text
      expect(r.returns[2]?.error?.messages).to.deep.equal(['验签失败！']);
      expect(r.returns[3]?.error).to.deep.include({ code: '-621999', known: false });
      expect(r.returns[4]).to.not.have.property('error');
      expect(r.returns[4]).to.deep.include({ statusText: '放行' });
      expect(r.returns[4]?.keys.invtNo).to.equal('514120261000000105');
    });

    it('accepts exactly 100 returns and refuses 101', () => {
      expect(parseReceipt(fixture('ceb312-100-returns.xml')).returns).to.have.length(100);
      const err = refusal(fixture('ceb312-101-returns.xml'));
      expect(err.code).to.equal('RECEIPT_TOO_MANY_RETURNS');
      expect(err.message).to.contain('101');
    });

    it('reads a CEB816 tax bill with its amounts and lines, and a CEB818 tax status', () => {
      const tax = parseReceipt(fixture('ceb816-tax-bill.xml'));
      expect(tax.returns[0]).to.deep.include({ status: '1', statusText: '已生成', returnInfo: '' });
      expect(tax.returns[0]?.keys).to.include({ invtNo: '514120261000000105', taxNo: '5141202610000001051' });
      expect(tax.returns[0]?.tax?.valueAddedTax).to.equal('115.63');
      expect(tax.returns[0]?.tax?.lines.map((l) => l.gcode)).to.deep.equal(['3304990099', '3401300000']);
      const status = parseReceipt(fixture('ceb818-tax-status.xml'));
      expect(status.returns[0]).to.deep.include({ status: '2', statusText: '已汇总' });
      expect(status.returns[0]?.keys.entDutyNo).to.equal('EDN2026120500001');
    });

    it('reads a CEB900 format-error receipt with the echoed original message as text', () => {
      const r = parseReceipt(fixture('ceb900-format-error.xml'));
      expect(r.returns[0]?.keys).to.deep.equal({ oriCopMsgId: 'BG-MSG-000101', oriMessageType: 'CEB311Message' });
      expect(r.returns[0]?.error?.code).to.equal('-1');
      expect(r.returns[0]?.originalMessage).to.equal(
        '<ceb:CEB311Message xmlns:ceb="http://www.chinaport.gov.cn/ceb"><!-- original --></ceb:CEB311Message>',
      );
    });

    it('can be limited to the receipt types a caller expects', () => {
      expect(refusal(fixture('ceb312-default-namespace.xml'), { expect: ['CEB622'] }).code).to.equal(
        'RECEIPT_UNKNOWN_TYPE',
      );
      expect(parseReceipt(fixture('ceb312-default-namespace.xml'), { expect: ['CEB312'] }).type).to.equal('CEB312');
    });
  });

  describe('hostile and broken input', () => {
    const cases: Array<[string, ReceiptErrorCode, RegExp]> = [
      ['hostile-doctype-xxe.xml', 'XML_DOCTYPE_FORBIDDEN', /<!DOCTYPE>/],
      ['hostile-entity-bomb.xml', 'XML_DOCTYPE_FORBIDDEN', /DTDs and entity declarations are refused/],
      ['hostile-entity-no-doctype.xml', 'XML_MALFORMED', /undeclared entity &lol9;/],
      ['hostile-too-deep.xml', 'XML_TOO_DEEP', /deeper than 32/],
      ['malformed-unclosed.xml', 'XML_MALFORMED', /line \d+/],
      ['malformed-two-roots.xml', 'XML_MALFORMED', /root/],
      ['malformed-unbound-prefix.xml', 'XML_MALFORMED', /unbound namespace prefix "p"/],
      ['encoding-gbk.xml', 'XML_ENCODING_UNSUPPORTED', /GBK/],
      ['unknown-type-ceb311.xml', 'RECEIPT_UNKNOWN_TYPE', /CEB311Message is not a receipt/],
      ['wrong-namespace.xml', 'RECEIPT_UNKNOWN_TYPE', /\{http:\/\/example\.com\/not-ceb\}CEB312Message/],
      [
        'invalid-return-time.xml',
        'RECEIPT_INVALID',
        /OrderReturn\[1\]: returnTime "20261128103001" is not YYYYMMDDhhmmssSSS/,
      ],
      ['invalid-missing-status.xml', 'RECEIPT_INVALID', /OrderReturn\[1\]: <returnStatus> is missing/],
    ];
    for (const [file, code, detail] of cases) {
      it(`${file} → ${code}`, () => {
        const err = refusal(fixture(file));
        expect(err.code).to.equal(code);
        expect(err.message).to.match(detail);
      });
    }

    it('refuses input over the size limit before parsing it', () => {
      const big = Buffer.alloc(DEFAULT_XML_LIMITS.maxBytes + 1, 0x20);
      expect(refusal(big).code).to.equal('XML_TOO_LARGE');
      expect(
        refusal(fixture('ceb312-100-returns.xml'), { limits: { ...DEFAULT_XML_LIMITS, maxBytes: 1024 } }).message,
      ).to.match(/limit is 1024/);
    });

    it('refuses a wide document with more elements than the limit', () => {
      const wide =
        '<CEB312Message xmlns="http://www.chinaport.gov.cn/ceb">' + '<x></x>'.repeat(100_001) + '</CEB312Message>';
      expect(Buffer.byteLength(wide)).to.be.lessThan(DEFAULT_XML_LIMITS.maxBytes);
      const err = refusal(wide);
      expect(err.code).to.equal('XML_TOO_LARGE');
      expect(err.message).to.contain('more than 100000 elements');
    });

    it('refuses bytes that are not UTF-8', () => {
      const bytes = Buffer.concat([
        Buffer.from('<CEB312Message xmlns="http://www.chinaport.gov.cn/ceb">'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('</CEB312Message>'),
      ]);
      expect(refusal(bytes).code).to.equal('XML_MALFORMED');
    });

    it('survives a deeply nested document without a stack overflow', () => {
      const deep = '<a>'.repeat(200_000) + '</a>'.repeat(200_000);
      expect(refusal(deep).code).to.equal('XML_TOO_DEEP');
    });

    it('answers 2,000 randomly damaged receipts with a result or a ReceiptParseError, never another error', function () {
      this.timeout(30_000);
      const base = fixture('ceb622-negative-codes.xml').toString('utf8');
      let seed = 7;
      const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
      const alphabet = [
        '<',
        '>',
        '/',
        '&',
        ';',
        '"',
        "'",
        '=',
        ':',
        '!',
        '?',
        '[',
        ']',
        'x',
        ' ',
        '\u0000',
        '\uD800',
        '<!DOCTYPE a>',
        '&#x0;',
        'ceb:',
        'xmlns="urn:x"',
      ];
      const outcomes = { parsed: 0, refused: 0 };
      for (let n = 0; n < 2000; n++) {
        let text = base;
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
          const at = Math.floor(rnd() * text.length);
          const op = rnd();
          if (op < 0.4) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rnd() * 8));
          else text = text.slice(0, at) + alphabet[Math.floor(rnd() * alphabet.length)] + text.slice(at);
        }
        try {
          parseReceipt(text);
          outcomes.parsed++;
        } catch (err) {
          if (!(err instanceof ReceiptParseError))
            throw new Error(`input #${n} raised ${(err as Error).name}: ${(err as Error).message}\n${text}`, {
              cause: err,
            });
          outcomes.refused++;
        }
      }
      expect(outcomes.refused).to.be.greaterThan(100);
    });

    it('refuses a DOCTYPE hidden after comments and processing instructions', () => {
      const xml = '<?xml version="1.0"?><!-- c --><?pi x?><!DOCTYPE a SYSTEM "http://evil/x.dtd"><a/>';
      expect(refusal(xml).code).to.equal('XML_DOCTYPE_FORBIDDEN');
    });
  });

  describe('return-code table', () => {
    it('explains business and platform codes from the specification', () => {
      expect(describeReturnCode('-301010')).to.deep.include({
        known: true,
        category: 'order',
        messages: ['已存在相同编号的订单'],
      });
      expect(describeReturnCode('-621027').messages).to.have.length(2);
      expect(describeReturnCode('1004')).to.deep.include({
        category: 'message security',
        messages: ['签名与数据不符'],
      });
      expect(describeReturnCode('-1').known).to.equal(false);
    });
  });
});
