/**
 * Deterministic generator of VALID Baygate orders for property-style tests and for bulk message/XSD
 * checks: the same seed always gives the same order, every order passes parseBaygateOrder and
 * validateOrderStatic (the generator checks itself and throws otherwise), and the values vary in the
 * ways that break builders: 1–5 lines (or opts.itemCount up to 99), gifts at price 0, both trade modes,
 * import and export, GD/HK/MO sellers, second legal units, fractional quantities, XML-special
 * characters (& < > " ') in names, and optionally every text field at its maximum length.
 */
import {
  parseBaygateOrderOrThrow,
  type BaygateOrder,
  type Direction,
  type SellerRegion,
  type TradeMode,
} from '../../src/domain/order';
import { validateOrderStatic } from '../../src/domain/rules/index';
import { gb11643CheckChar } from '../../src/domain/rules/gb11643';
import { computeTax } from '../../src/domain/tax';
import { roundTo, sumExact } from '../../src/domain/money';

export interface GenerateOptions {
  direction?: Direction;
  tradeMode?: TradeMode;
  sellerRegion?: SellerRegion;
  /** Number of order lines (1–99); random 1–5 when absent. */
  itemCount?: number;
  /** Fill names, addresses and models to their XSD maximum lengths. */
  maxLengths?: boolean;
}

/** mulberry32: tiny, fast, good enough for test data, and reproducible across Node versions. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Product {
  name: string;
  gcode: string;
  gmodel: string;
  unit: string;
  unit1: string;
  /** Legal quantity per trade unit. */
  qty1PerUnit: number;
  unit2?: string;
  qty2PerUnit?: number;
  /** Price range in CNY. */
  min: number;
  max: number;
  origin: string;
  barCode?: string;
  /** Can be sold by weight with a fractional qty. */
  fractional?: boolean;
}

const PRODUCTS: Product[] = [
  {
    name: '婴幼儿配方奶粉 3段 900g',
    gcode: '1901101000',
    gmodel: '婴幼儿配方奶粉|900g/罐|12-36月龄',
    unit: '122',
    unit1: '035',
    qty1PerUnit: 0.9,
    min: 180,
    max: 420,
    origin: '609',
    barCode: '9421902960017',
  },
  {
    name: '保湿面霜 50ml',
    gcode: '3304990099',
    gmodel: '面霜|50ml/瓶|水、甘油',
    unit: '142',
    unit1: '035',
    qty1PerUnit: 0.2,
    min: 120,
    max: 1600,
    origin: '116',
  },
  {
    name: 'Johnson & Johnson 婴儿润肤露 <300ml>',
    gcode: '3304990099',
    gmodel: '润肤露|"Johnson & Johnson"|300ml/瓶|婴儿用',
    unit: '142',
    unit1: '035',
    qty1PerUnit: 0.35,
    min: 39,
    max: 89,
    origin: '502',
    barCode: '0381370036012',
  },
  {
    name: '维生素C泡腾片 110片',
    gcode: '2106909090',
    gmodel: "泡腾片|Swisse|110片/瓶|维生素C|O'Neill 配方",
    unit: '142',
    unit1: '035',
    qty1PerUnit: 0.45,
    min: 59,
    max: 199,
    origin: '601',
  },
  {
    name: '红葡萄酒 750ml',
    gcode: '2204210000',
    gmodel: '葡萄酒|750ml/瓶|酒精度13.5%',
    unit: '142',
    unit1: '095',
    qty1PerUnit: 0.75,
    min: 88,
    max: 880,
    origin: '305',
  },
  {
    name: '香水 EDP 50ml',
    gcode: '3303000000',
    gmodel: '香水|50ml/瓶|浓香型',
    unit: '142',
    unit1: '035',
    qty1PerUnit: 0.25,
    min: 350,
    max: 1500,
    origin: '305',
  },
  {
    name: '18K金吊坠',
    gcode: '7113191100',
    gmodel: '吊坠|18K金|金重1.2克',
    unit: '011',
    unit1: '036',
    qty1PerUnit: 1.25,
    min: 600,
    max: 2400,
    origin: '110',
  },
  {
    name: '曲奇饼干 454g',
    gcode: '1905310000',
    gmodel: '曲奇饼干|454g/盒|小麦粉、黄油',
    unit: '140',
    unit1: '035',
    qty1PerUnit: 0.454,
    min: 38,
    max: 98,
    origin: '110',
  },
  {
    name: '杏仁饼 12件装',
    gcode: '1905909000',
    gmodel: '杏仁饼|300g/盒|绿豆粉、杏仁',
    unit: '140',
    unit1: '035',
    qty1PerUnit: 0.3,
    min: 45,
    max: 88,
    origin: '121',
  },
  {
    name: '运动鞋',
    gcode: '6404110000',
    gmodel: '运动鞋|纺织材料鞋面|橡胶鞋底|42码',
    unit: '025',
    unit1: '025',
    qty1PerUnit: 1,
    unit2: '035',
    qty2PerUnit: 0.8,
    min: 299,
    max: 1299,
    origin: '502',
  },
  {
    name: '新西兰车厘子（按千克）',
    gcode: '0809290000',
    gmodel: '鲜樱桃|JJ级|冷链',
    unit: '035',
    unit1: '035',
    qty1PerUnit: 1,
    min: 80,
    max: 160,
    origin: '609',
    fractional: true,
  },
  {
    name: '鲜橙（按千克）',
    gcode: '0805100000',
    gmodel: '鲜橙|脐橙|冷链',
    unit: '035',
    unit1: '035',
    qty1PerUnit: 1,
    min: 20,
    max: 45,
    origin: '502',
    fractional: true,
  },
  {
    name: '英文原版图书',
    gcode: '4901990000',
    gmodel: '图书|平装|英文',
    unit: '132',
    unit1: '035',
    qty1PerUnit: 0.6,
    min: 45,
    max: 260,
    origin: '303',
  },
  {
    name: '蓝牙耳机',
    gcode: '8518300000',
    gmodel: '蓝牙耳机|入耳式|无线',
    unit: '019',
    unit1: '019',
    qty1PerUnit: 1,
    unit2: '035',
    qty2PerUnit: 0.06,
    min: 199,
    max: 1999,
    origin: '133',
  },
];

const EXPORT_PRODUCTS: Product[] = [
  {
    name: '乌龙茶 250g',
    gcode: '0902300000',
    gmodel: '乌龙茶|250g/罐',
    unit: '122',
    unit1: '035',
    qty1PerUnit: 0.25,
    min: 60,
    max: 400,
    origin: '142',
  },
  {
    name: '真丝围巾',
    gcode: '6214100090',
    gmodel: '围巾|桑蚕丝100%|180×55cm',
    unit: '015',
    unit1: '015',
    qty1PerUnit: 1,
    min: 120,
    max: 600,
    origin: '142',
  },
  {
    name: '陶瓷茶具套装 & 礼盒',
    gcode: '6912001000',
    gmodel: '茶具|陶瓷|"一壶四杯"',
    unit: '006',
    unit1: '035',
    qty1PerUnit: 1.6,
    min: 88,
    max: 980,
    origin: '142',
  },
  {
    name: '手机壳',
    gcode: '3926909090',
    gmodel: '手机壳|硅胶|<6.1英寸>',
    unit: '007',
    unit1: '035',
    qty1PerUnit: 0.04,
    min: 9.9,
    max: 59,
    origin: '142',
  },
];

const SURNAMES = ['张', '王', '李', '赵', '陈', '刘', '黄', '周', '吴', '林', '郭', '何', '欧阳'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '洋', '艳', '嘉怡', '子轩', '浩然', '思远', '晓明'];
const AREAS = [
  { code: '440106', prefix: '广东省广州市天河区' },
  { code: '440305', prefix: '广东省深圳市南山区' },
  { code: '440402', prefix: '广东省珠海市香洲区' },
  { code: '440604', prefix: '广东省佛山市禅城区' },
  { code: '441900', prefix: '广东省东莞市' },
  { code: '310115', prefix: '上海市浦东新区' },
  { code: '110105', prefix: '北京市朝阳区' },
];

const PLATFORM = { ebpCode: '4401961A2B', ebpName: '湾购跨境电商平台（广州）有限公司' };
const LOGISTICS = { logisticsCode: '4401980L01', logisticsName: '湾区速运（广州）有限公司' };
const PAYMENT = { payCode: '4401966P01', payName: '广州湾付支付科技有限公司' };

/**
 * Every e-commerce company the generated and example orders declare for: what a test seller is given
 * (sellers declare only for the companies they were given).
 */
export const TEST_EBC_CODES: readonly string[] = ['4401960E01', '4403960E02', 'HK3496A101', 'MO5795B201'];

const SELLERS: Record<SellerRegion, { ebcCode: string; ebcName: string }> = {
  GD: { ebcCode: '4401960E01', ebcName: '广州湾购国际贸易有限公司' },
  HK: { ebcCode: 'HK3496A101', ebcName: '香港尖沙咀金饰珠宝有限公司' },
  MO: { ebcCode: 'MO5795B201', ebcName: '澳門鉅記手信有限公司' },
};

/** Customs district, port, agent, transport for a seller region and trade mode. */
function route(region: SellerRegion, tradeMode: TradeMode, rnd: () => number) {
  if (tradeMode === '1210') {
    return rnd() < 0.5
      ? {
          customsCode: '5349',
          portCode: '5349',
          agentCode: '4403988A02',
          agentName: '深圳湾关供应链报关有限公司',
          trafMode: '4',
          areaCode: '4403640001',
          areaName: '深圳前海湾保税仓储有限公司',
          emsNo: 'T5349W000123',
        }
      : {
          customsCode: '5165',
          portCode: '5165',
          agentCode: '4401988A01',
          agentName: '广州湾关报关有限公司',
          trafMode: '4',
          areaCode: '4401640002',
          areaName: '广州南沙保税港区仓储有限公司',
          emsNo: 'T5165W000456',
        };
  }
  if (region === 'HK')
    return {
      customsCode: '5345',
      portCode: '5345',
      agentCode: '4403988A02',
      agentName: '深圳湾关供应链报关有限公司',
      trafMode: '4',
      country: '110',
    };
  if (region === 'MO')
    return {
      customsCode: '5795',
      portCode: '5795',
      agentCode: '4404988A03',
      agentName: '珠海横琴湾关报关有限公司',
      trafMode: '4',
      country: '121',
    };
  return {
    customsCode: '5141',
    portCode: '5141',
    agentCode: '4401988A01',
    agentName: '广州湾关报关有限公司',
    trafMode: '5',
    country: pick(['116', '133', '502', '303', '609'], rnd),
  };
}

function pick<T>(list: readonly T[], rnd: () => number): T {
  const value = list[Math.floor(rnd() * list.length)];
  if (value === undefined) throw new Error('pick from an empty list');
  return value;
}

function int(min: number, max: number, rnd: () => number): number {
  return min + Math.floor(rnd() * (max - min + 1));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A valid GB 11643 identity card number from the generator's stream. */
export function generateIdNumber(rnd: () => number): string {
  const area = pick(AREAS, rnd).code;
  const birth = new Date(Date.UTC(int(1955, 2006, rnd), int(0, 11, rnd), int(1, 28, rnd)));
  const first17 = `${area}${birth.getUTCFullYear()}${pad(birth.getUTCMonth() + 1, 2)}${pad(birth.getUTCDate(), 2)}${pad(int(0, 999, rnd), 3)}`;
  return first17 + gb11643CheckChar(first17);
}

function fill(value: string, max: number, on: boolean): string {
  if (!on) return value;
  const chars = [...value];
  while (chars.length < max) chars.push(...[...'甲乙丙丁&<>"\'']);
  return chars.slice(0, max).join('');
}

function money(min: number, max: number, rnd: () => number): number {
  return roundTo(min + rnd() * (max - min), 2);
}

/** Beijing-time CEB timestamp in 2026 from the stream, plus the same instant some minutes later. */
function times(rnd: () => number): { payTime: string; appTime: string; day: string } {
  const start = Date.UTC(2026, 0, 1) + Math.floor(rnd() * 330 * 86400) * 1000;
  const fmt = (ms: number) => new Date(ms + 8 * 3600 * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const pay = fmt(start);
  return { payTime: pay, appTime: fmt(start + int(1, 120, rnd) * 60_000), day: pay.slice(0, 8) };
}

/** Random valid order for `seed`. Throws if the generator ever produced something the rules reject. */
export function generateValidOrder(seed: number, opts: GenerateOptions = {}): BaygateOrder {
  const rnd = seededRandom(seed * 7919 + 17);
  const direction: Direction = opts.direction ?? (rnd() < 0.75 ? 'import' : 'export');
  const tradeMode: TradeMode = opts.tradeMode ?? (rnd() < 0.6 ? '9610' : '1210');
  const sellerRegion: SellerRegion =
    opts.sellerRegion ?? (direction === 'export' ? 'GD' : pick(['GD', 'GD', 'HK', 'MO'] as const, rnd));
  const itemCount = opts.itemCount ?? int(1, 5, rnd);
  if (itemCount < 1 || itemCount > 99) throw new Error('itemCount must be 1–99');
  const long = opts.maxLengths ?? false;
  const r = route(sellerRegion, tradeMode, rnd);
  const t = times(rnd);
  const seller = SELLERS[sellerRegion];
  const orderNo = fill(`BG${t.day}${pad(seed % 1_000_000, 6)}${int(100, 999, rnd)}`, 60, long);
  const logisticsNo = fill(`BQ${r.customsCode}${pad(seed % 100_000_000, 8)}`, direction === 'export' ? 32 : 60, long);
  const bonded = tradeMode === '1210';

  // Lines: import keeps goods + freight + insurance under the 5,000 CNY limit with room to spare.
  const catalogue = direction === 'export' ? EXPORT_PRODUCTS : PRODUCTS;
  const budget = direction === 'import' ? 4900 : 50_000;
  const perLineBudget = budget / itemCount;
  const currency = direction === 'export' && rnd() < 0.2 ? pick(['110', '502'], rnd) : '142';
  const destination = pick(['110', '121', '116', '502'], rnd);
  const items = Array.from({ length: itemCount }, (_, i) => {
    const p = pick(catalogue, rnd);
    const gift = itemCount > 1 && i === itemCount - 1 && rnd() < 0.3;
    const qty = p.fractional ? roundTo(0.5 + rnd() * 2.5, 3) : int(1, 3, rnd);
    // The budget wins over the catalogue price range, so long orders stay under the import limit.
    const maxPrice = Math.max(0.01, Math.min(p.max, perLineBudget / qty / 1.2));
    const price = gift ? 0 : Math.max(0.01, money(Math.min(p.min, maxPrice / 2), maxPrice, rnd));
    const totalPrice = roundTo(price * qty, 2);
    return {
      gnum: i + 1,
      itemNo: fill(`SKU-${p.gcode.slice(0, 4)}-${pad(int(0, 9999, rnd), 4)}`, 20, long),
      itemName: fill(gift ? `${p.name}（赠品）` : p.name, 250, long),
      gcode: p.gcode,
      gmodel: fill(p.gmodel, direction === 'export' ? 250 : 510, long),
      ...(p.barCode ? { barCode: p.barCode } : {}),
      unit: p.unit,
      qty,
      unit1: p.unit1,
      qty1: roundTo(p.qty1PerUnit * qty, 5),
      ...(p.unit2 && p.qty2PerUnit ? { unit2: p.unit2, qty2: roundTo(p.qty2PerUnit * qty, 5) } : {}),
      price,
      totalPrice,
      currency,
      country: direction === 'export' ? destination : p.origin,
      ...(bonded ? { itemRecordNo: `REC-${p.gcode.slice(0, 4)}-${pad(i + 1, 3)}` } : {}),
      ...(gift ? { note: '赠品' } : {}),
    };
  });
  const goodsValue = sumExact(items.map((i) => i.totalPrice));
  const freight = rnd() < 0.3 ? 0 : money(5, 30, rnd);
  const insuredFee = rnd() < 0.7 ? 0 : money(1, 5, rnd);
  const netWeight = roundTo(
    Math.max(
      0.01,
      items.reduce((acc, i) => acc + (i.unit1 === '035' ? i.qty1 : 0.3 * i.qty), 0),
    ),
    3,
  );
  const weight = roundTo(netWeight + 0.1 + rnd() * 0.5, 3);
  const common = {
    tradeMode,
    sellerRegion,
    orderNo,
    appTime: t.appTime,
    ...PLATFORM,
    ...seller,
    goodsValue,
    freight,
    insuredFee,
    currency,
    customsCode: r.customsCode,
    portCode: r.portCode,
    agentCode: r.agentCode,
    agentName: fill(r.agentName, 100, long),
    trafMode: r.trafMode,
    ...(bonded ? { emsNo: r.emsNo, areaCode: r.areaCode, areaName: r.areaName } : {}),
    ...(long ? { note: fill('订单备注', 1000, true) } : {}),
  };

  let input: Record<string, unknown>;
  if (direction === 'import') {
    const tax = computeTax({ freight, insuredFee, items });
    const discount = rnd() < 0.3 ? roundTo(Math.min(goodsValue, 50) * rnd(), 2) : 0;
    const acturalPaid = sumExact([goodsValue, freight, tax.taxTotal, -discount]);
    const buyerIdNumber = generateIdNumber(rnd);
    const buyerName = pick(SURNAMES, rnd) + pick(GIVEN, rnd);
    const buyerTelephone = `13${int(0, 9, rnd)}${pad(int(0, 99_999_999, rnd), 8)}`;
    const area = pick(AREAS, rnd);
    const selfShip = rnd() < 0.8;
    const consignee = selfShip ? buyerName : pick(SURNAMES, rnd) + pick(GIVEN, rnd);
    input = {
      direction,
      ...common,
      discount,
      taxTotal: tax.taxTotal,
      acturalPaid,
      country: bonded ? '142' : (r.country ?? '116'),
      ...(bonded
        ? {}
        : {
            trafNo: fill(r.trafMode === '5' ? `CZ${int(100, 999, rnd)}` : `粤Z${int(1000, 9999, rnd)}港`, 100, long),
            voyageNo: `${t.day}-${int(1, 9, rnd)}`,
            billNo: `${int(100, 999, rnd)}-${pad(int(0, 99_999_999, rnd), 8)}`,
          }),
      buyerRegNo: `user_${int(10000, 99999, rnd)}`,
      buyerName,
      buyerIdType: '1',
      buyerIdNumber,
      buyerTelephone,
      consignee: fill(consignee, 100, long),
      consigneeTelephone: selfShip ? buyerTelephone : `18${int(0, 9, rnd)}${pad(int(0, 99_999_999, rnd), 8)}`,
      consigneeAddress: fill(
        `${area.prefix}${pick(['建设路', '中山大道', '人民路', '海滨路'], rnd)}${int(1, 999, rnd)}号${int(1, 30, rnd)}栋${int(101, 3203, rnd)}室`,
        200,
        long,
      ),
      consigneeDistrict: area.code,
      assureCode: r.agentCode,
      items,
      payment: {
        ...PAYMENT,
        payTransactionId: `WP${t.payTime}${pad(seed % 100_000, 5)}`,
        payerIdType: '1',
        payerIdNumber: buyerIdNumber,
        payerName: buyerName,
        payerTelephone: buyerTelephone,
        amountPaid: acturalPaid,
        payTime: t.payTime,
      },
      logistics: {
        ...LOGISTICS,
        logisticsNo,
        weight,
        netWeight,
        packNo: 1,
        goodsInfo: fill(
          items
            .map((i) => `${i.itemName.slice(0, 10)}×${i.qty}`)
            .join('；')
            .slice(0, 200),
          200,
          long,
        ),
      },
    };
  } else {
    input = {
      direction,
      ...common,
      country: destination,
      pod: ({ '110': 'HKG', '121': 'MAC', '116': 'TYO', '502': 'LAX' } as Record<string, string>)[destination] ?? 'HKG',
      statisticsFlag: pick(['A', 'B'] as const, rnd),
      ownerCode: seller.ebcCode,
      ownerName: seller.ebcName,
      copNo: `X${t.day}${pad(seed % 1_000_000, 6)}`,
      ieDate: t.day,
      wrapType: pick(['2', '6', '7'], rnd),
      ...(rnd() < 0.5
        ? {
            trafNo: `粤Z${int(1000, 9999, rnd)}港`,
            voyageNo: `${t.day}-E${int(1, 9, rnd)}`,
            billNo: `E${t.day}${int(1000, 9999, rnd)}`,
          }
        : {}),
      items,
      // The receipt of payment (CEB403), derived without drawing from the generator, so that the rest of an
      // order stays what the seed always gave.
      payment: {
        ...(seed % 4 === 0 ? {} : { payCode: PAYMENT.payCode }),
        payName: fill(PAYMENT.payName, 100, long),
        ...(seed % 3 === 0 ? {} : { payTransactionId: fill(`WPX${t.payTime}${pad(seed % 100_000, 5)}`, 60, long) }),
        amountPaid: sumExact([goodsValue, freight]),
        payTime: t.payTime,
        ...(long ? { note: fill('收款备注', 1000, true) } : {}),
      },
      logistics: {
        ...LOGISTICS,
        logisticsNo,
        weight,
        netWeight,
        packNo: int(1, 2, rnd),
        goodsInfo: fill(
          items
            .map((i) => `${i.itemName.slice(0, 10)}×${i.qty}`)
            .join('；')
            .slice(0, 200),
          200,
          long,
        ),
      },
    };
  }

  const order = parseBaygateOrderOrThrow(input);
  const violations = validateOrderStatic(order);
  if (violations.length > 0) {
    throw new Error(
      `order generator bug (seed ${seed}): ${violations.map((v) => `${v.path}: ${v.message.en}`).join('; ')}`,
    );
  }
  return order;
}
