import { expect } from 'chai';
import type { BaygateOrder, ExportOrder, ImportOrder } from '../../src/domain/order';
import { validateOrderStatic, type RuleCode } from '../../src/domain/rules/index';
import { defaultCodeTables } from '../../src/domain/reference-data';
import { clone, exportExample, importExample, loadExample } from './example-orders';

interface Case {
  name: string;
  base: () => BaygateOrder;
  breakIt: (order: never) => void;
  code: RuleCode;
  path: string;
}

const gz = () => importExample('gz-9610-direct-purchase');
const bonded = () => importExample('qianhai-1210-bonded');
const gift = () => importExample('multi-item-with-gift');
const exp = () => exportExample('export-9610-to-hong-kong');

/** One case per rule: a valid example, one field broken, the violation we must get at that path. */
const cases: Case[] = [
  {
    name: 'totalPrice is not price × qty',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.items[0]!.totalPrice = 1240.01;
      o.goodsValue = 1370.01;
      o.acturalPaid = 1506.5;
      o.payment.amountPaid = 1506.5;
    },
    code: 'TOTAL_PRICE_MISMATCH',
    path: 'items[0].totalPrice',
  },
  {
    name: 'goodsValue is not Σ totalPrice',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.goodsValue = 1380;
      o.acturalPaid = 1516.49;
      o.payment.amountPaid = 1516.49;
    },
    code: 'GOODS_VALUE_MISMATCH',
    path: 'goodsValue',
  },
  {
    name: 'acturalPaid ignores the discount',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.acturalPaid = 1516.49;
      o.payment.amountPaid = 1516.49;
    },
    code: 'ACTURAL_PAID_MISMATCH',
    path: 'acturalPaid',
  },
  {
    name: 'payment amount differs from acturalPaid',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.payment.amountPaid = 1506.48;
    },
    code: 'PAYMENT_AMOUNT_MISMATCH',
    path: 'payment.amountPaid',
  },
  {
    name: 'import order in HKD',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.currency = '110';
    },
    code: 'CURRENCY_NOT_CNY',
    path: 'currency',
  },
  {
    name: 'import line in USD',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.items[1]!.currency = '502';
    },
    code: 'CURRENCY_NOT_CNY',
    path: 'items[1].currency',
  },
  {
    name: 'export line in another currency than the order',
    base: exp,
    breakIt: (o: ExportOrder) => {
      o.items[0]!.currency = '110';
    },
    code: 'CURRENCY_INCONSISTENT',
    path: 'items[0].currency',
  },
  {
    name: 'waybill order number differs',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.logistics.orderNo = 'BG20261128GZ000102';
    },
    code: 'THREE_DOCUMENTS_MISMATCH',
    path: 'logistics.orderNo',
  },
  {
    name: 'payment order number differs',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.payment.orderNo = 'X1';
    },
    code: 'THREE_DOCUMENTS_MISMATCH',
    path: 'payment.orderNo',
  },
  {
    name: 'waybill consignee differs',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.logistics.consignee = '林小敏';
    },
    code: 'THREE_DOCUMENTS_MISMATCH',
    path: 'logistics.consignee',
  },
  {
    name: 'waybill consignee phone differs',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.logistics.consigneeTelephone = '13800138001';
    },
    code: 'THREE_DOCUMENTS_MISMATCH',
    path: 'logistics.consigneeTelephone',
  },
  {
    name: 'waybill address differs',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.logistics.consigneeAddress = '广东省广州市天河区';
    },
    code: 'THREE_DOCUMENTS_MISMATCH',
    path: 'logistics.consigneeAddress',
  },
  {
    name: 'payer is someone else',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.payment.payerName = '林大敏';
    },
    code: 'PAYER_NOT_BUYER',
    path: 'payment.payerName',
  },
  {
    name: 'payer ID number is someone else\u2019s',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.payment.payerIdNumber = '11010519491231002X';
    },
    code: 'PAYER_NOT_BUYER',
    path: 'payment.payerIdNumber',
  },
  {
    name: 'single transaction over 5,000 CNY',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.items[0]!.price = 4911;
      o.items[0]!.totalPrice = 4911;
      o.goodsValue = 5041;
      o.taxTotal = 460.55;
      o.acturalPaid = 5511.55;
      o.payment.amountPaid = 5511.55;
    },
    code: 'SINGLE_LIMIT_EXCEEDED',
    path: 'goodsValue',
  },
  {
    name: 'taxTotal off by 0.02',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.taxTotal = 126.51;
      o.acturalPaid = 1506.51;
      o.payment.amountPaid = 1506.51;
    },
    code: 'TAX_MISMATCH',
    path: 'taxTotal',
  },
  {
    name: 'taxTotal computed after the coupon',
    base: gift,
    breakIt: (o: ImportOrder) => {
      o.taxTotal = 115.67;
      o.acturalPaid = 1384.77;
      o.payment.amountPaid = 1384.77;
    },
    code: 'TAX_MISMATCH',
    path: 'taxTotal',
  },
  {
    name: 'buyer ID type other than identity card',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.buyerIdType = '2';
      o.payment.payerIdType = '2';
    },
    code: 'BUYER_ID_TYPE_NOT_ID_CARD',
    path: 'buyerIdType',
  },
  {
    name: 'buyer ID check digit wrong',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.buyerIdNumber = '440106199003071232';
      o.payment.payerIdNumber = '440106199003071232';
    },
    code: 'ID_NUMBER_INVALID',
    path: 'buyerIdNumber',
  },
  {
    name: 'HS code with 8 digits',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.items[1]!.gcode = '34013000';
    },
    code: 'HS_CODE_INVALID',
    path: 'items[1].gcode',
  },
  {
    name: 'HS code with letters',
    base: exp,
    breakIt: (o: ExportOrder) => {
      o.items[0]!.gcode = '09023000AB';
    },
    code: 'HS_CODE_INVALID',
    path: 'items[0].gcode',
  },
  {
    name: '9610 without voyageNo',
    base: gz,
    breakIt: (o: ImportOrder) => {
      delete o.voyageNo;
    },
    code: 'TRADE_MODE_FIELD_MISSING',
    path: 'voyageNo',
  },
  {
    name: '9610 with a blank trafNo',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.trafNo = ' ';
    },
    code: 'TRADE_MODE_FIELD_MISSING',
    path: 'trafNo',
  },
  {
    name: '1210 without emsNo',
    base: bonded,
    breakIt: (o: ImportOrder) => {
      delete o.emsNo;
    },
    code: 'TRADE_MODE_FIELD_MISSING',
    path: 'emsNo',
  },
  {
    name: '1210 without areaName',
    base: bonded,
    breakIt: (o: ImportOrder) => {
      delete o.areaName;
    },
    code: 'TRADE_MODE_FIELD_MISSING',
    path: 'areaName',
  },
  {
    name: '1210 line without itemRecordNo',
    base: bonded,
    breakIt: (o: ImportOrder) => {
      delete o.items[1]!.itemRecordNo;
    },
    code: 'TRADE_MODE_FIELD_MISSING',
    path: 'items[1].itemRecordNo',
  },
  {
    name: '1210 import with a foreign inventory country',
    base: bonded,
    breakIt: (o: ImportOrder) => {
      o.country = '609';
    },
    code: 'BONDED_COUNTRY_NOT_CHINA',
    path: 'country',
  },
  {
    name: 'export without wrapType',
    base: exp,
    breakIt: (o: ExportOrder) => {
      delete o.wrapType;
    },
    code: 'EXPORT_FIELD_MISSING',
    path: 'wrapType',
  },
  {
    name: 'unknown origin country',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.items[0]!.country = '998';
    },
    code: 'UNKNOWN_COUNTRY',
    path: 'items[0].country',
  },
  {
    name: 'unknown export destination',
    base: exp,
    breakIt: (o: ExportOrder) => {
      o.country = '998';
    },
    code: 'UNKNOWN_COUNTRY',
    path: 'country',
  },
  {
    name: 'unknown currency on export',
    base: exp,
    breakIt: (o: ExportOrder) => {
      o.currency = '999';
      for (const i of o.items) i.currency = '999';
    },
    code: 'UNKNOWN_CURRENCY',
    path: 'currency',
  },
  {
    name: 'unknown legal unit',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.items[0]!.unit1 = '998';
    },
    code: 'UNKNOWN_UNIT',
    path: 'items[0].unit1',
  },
  {
    name: 'unknown customs district',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.customsCode = '5999';
    },
    code: 'UNKNOWN_CUSTOMS_DISTRICT',
    path: 'customsCode',
  },
  {
    name: 'unknown port district',
    base: exp,
    breakIt: (o: ExportOrder) => {
      o.portCode = '0009';
    },
    code: 'UNKNOWN_CUSTOMS_DISTRICT',
    path: 'portCode',
  },
  {
    name: 'line numbers not consecutive',
    base: gift,
    breakIt: (o: ImportOrder) => {
      o.items[2]!.gnum = 4;
    },
    code: 'GNUM_NOT_SEQUENTIAL',
    path: 'items[2].gnum',
  },
  {
    name: 'two parcels on an import waybill',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.logistics.packNo = 2;
    },
    code: 'PACK_NO_NOT_ONE',
    path: 'logistics.packNo',
  },
  {
    name: 'net weight above gross weight',
    base: exp,
    breakIt: (o: ExportOrder) => {
      o.logistics.netWeight = 2;
    },
    code: 'NET_WEIGHT_EXCEEDS_GROSS',
    path: 'logistics.netWeight',
  },
  {
    name: 'second unit without quantity',
    base: gz,
    breakIt: (o: ImportOrder) => {
      o.items[0]!.unit2 = '007';
    },
    code: 'SECOND_UNIT_INCOMPLETE',
    path: 'items[0].qty2',
  },
];

describe('business rules: each rule rejects a broken order', () => {
  for (const c of cases) {
    it(`${c.code} at ${c.path}: ${c.name}`, () => {
      const order = clone(c.base());
      expect(validateOrderStatic(order), 'the base example must be valid').to.deep.equal([]);
      (c.breakIt as (o: BaygateOrder) => void)(order);
      const violations = validateOrderStatic(order);
      expect(violations.map((v) => `${v.code}@${v.path}`)).to.include(`${c.code}@${c.path}`);
      for (const v of violations) {
        expect(v.message.zh, 'Chinese message').to.be.a('string').and.not.equal('');
        expect(v.message.en, 'English message').to.be.a('string').and.not.equal('');
      }
    });
  }

  it('covers every rule code except SCHEMA and the async annual limit', () => {
    const covered = new Set(cases.map((c) => c.code));
    const all: RuleCode[] = [
      'TOTAL_PRICE_MISMATCH',
      'GOODS_VALUE_MISMATCH',
      'ACTURAL_PAID_MISMATCH',
      'PAYMENT_AMOUNT_MISMATCH',
      'CURRENCY_NOT_CNY',
      'CURRENCY_INCONSISTENT',
      'THREE_DOCUMENTS_MISMATCH',
      'PAYER_NOT_BUYER',
      'SINGLE_LIMIT_EXCEEDED',
      'TAX_MISMATCH',
      'BUYER_ID_TYPE_NOT_ID_CARD',
      'ID_NUMBER_INVALID',
      'HS_CODE_INVALID',
      'TRADE_MODE_FIELD_MISSING',
      'BONDED_COUNTRY_NOT_CHINA',
      'EXPORT_FIELD_MISSING',
      'UNKNOWN_COUNTRY',
      'UNKNOWN_CURRENCY',
      'UNKNOWN_UNIT',
      'UNKNOWN_CUSTOMS_DISTRICT',
      'GNUM_NOT_SEQUENTIAL',
      'PACK_NO_NOT_ONE',
      'NET_WEIGHT_EXCEEDS_GROSS',
      'SECOND_UNIT_INCOMPLETE',
    ];
    expect(all.filter((code) => !covered.has(code))).to.deep.equal([]);
  });

  it('reports every violation of an order at once, not just the first', () => {
    const order = clone(gz());
    order.items[1]!.gcode = '3401';
    order.buyerIdNumber = '440106199003071232';
    order.logistics.packNo = 3;
    order.customsCode = '5999';
    const codes = validateOrderStatic(order)
      .map((v) => v.code)
      .sort();
    expect(codes).to.include.members([
      'HS_CODE_INVALID',
      'ID_NUMBER_INVALID',
      'PACK_NO_NOT_ONE',
      'UNKNOWN_CUSTOMS_DISTRICT',
      'PAYER_NOT_BUYER',
    ]);
  });

  it('accepts totalPrice rounded to the fen and gifts at price 0', () => {
    const order = clone(gift());
    expect(order.items.some((i) => i.price === 0 && i.totalPrice === 0)).to.equal(true);
    order.items[2]!.qty = 3.333; // 59.9 × 3.333 = 199.6467 → 199.65
    order.items[2]!.totalPrice = 199.65;
    order.goodsValue = 1286.6 - 179.7 + 199.65;
    order.goodsValue = Number(order.goodsValue.toFixed(2));
    const codes = validateOrderStatic(order).map((v) => v.code);
    expect(codes).to.not.include('TOTAL_PRICE_MISMATCH');
    expect(codes).to.not.include('GOODS_VALUE_MISMATCH');
  });

  it('accepts a transaction of exactly 5,000 CNY', () => {
    const order = clone(gz());
    order.freight = 0;
    order.discount = 0;
    order.items = [order.items[0]!];
    order.items[0]!.price = 5000;
    order.items[0]!.totalPrice = 5000;
    order.goodsValue = 5000;
    // 5,000 CNY for 300 g of essence is high-end cosmetics (≥ 10 CNY/g): 15 % consumption tax, 13 % VAT,
    // 70 %: 5000 × 0.28 / 0.85 × 0.7 = 1152.94.
    order.taxTotal = 1152.94;
    order.acturalPaid = 6152.94;
    order.payment.amountPaid = 6152.94;
    expect(validateOrderStatic(order)).to.deep.equal([]);
  });

  it('uses injected code tables instead of the shipped ones', () => {
    const order = gz();
    const codeTables = { ...defaultCodeTables, customsDistricts: { '5345': '深圳湾海关' } };
    expect(validateOrderStatic(order, { codeTables }).map((v) => v.path)).to.deep.equal(['customsCode', 'portCode']);
  });

  it('does not apply import-only rules to an export order', () => {
    const order = clone(exp());
    order.currency = '502';
    for (const item of order.items) item.currency = '502';
    order.logistics.packNo = 3;
    expect(validateOrderStatic(order)).to.deep.equal([]);
  });

  it('passes all six valid examples', () => {
    for (const name of [
      'gz-9610-direct-purchase',
      'qianhai-1210-bonded',
      'hk-seller-shenzhen-bay',
      'mo-seller-hengqin',
      'multi-item-with-gift',
      'export-9610-to-hong-kong',
    ]) {
      expect(validateOrderStatic(loadExample(name)), name).to.deep.equal([]);
    }
  });
});

describe('identity numbers: a real birth date', () => {
  const now = new Date('2026-11-29T02:30:00Z');
  const future = (first14: string): string => {
    const first17 = first14 + '123';
    let sum = 0;
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    for (let i = 0; i < 17; i++) sum += Number(first17[i]) * w[i]!;
    return first17 + '10X98765432'[sum % 11];
  };

  it('refuses a buyer and a payer born in the future, with the field and the reason', () => {
    const order = clone(gz()) as ImportOrder;
    const id = future('44010629990101');
    order.buyerIdNumber = id;
    order.payment.payerIdNumber = id;
    const violations = validateOrderStatic(order, { now });
    expect(violations.map((v) => [v.path, v.code])).to.deep.equal([
      ['buyerIdNumber', 'ID_NUMBER_INVALID'],
      ['payment.payerIdNumber', 'ID_NUMBER_INVALID'],
    ]);
    expect(violations[0]!.message.en).to.equal('identity card number contains a birth date in the future');
  });

  it('refuses a birth date more than 150 years ago and accepts the example buyer', () => {
    const order = clone(gz()) as ImportOrder;
    expect(validateOrderStatic(order, { now })).to.deep.equal([]);
    order.buyerIdNumber = future('44010618000101');
    order.payment.payerIdNumber = order.buyerIdNumber;
    expect(validateOrderStatic(order, { now }).map((v) => v.message.en)).to.deep.equal([
      'identity card number contains an impossible birth date (not a calendar date, or more than 150 years ago)',
      'identity card number contains an impossible birth date (not a calendar date, or more than 150 years ago)',
    ]);
  });
});
