import type { BaygateOrder } from '../order';
import { violation, type RuleViolation, type StaticRuleDeps } from './types';

/** Every code must exist in the customs code tables (JGS-20 / JGS/T 18) shipped in mappings/codes. */
export function checkCodeTables(order: BaygateOrder, { codeTables }: StaticRuleDeps): RuleViolation[] {
  const out: RuleViolation[] = [];
  const check = (
    table: Readonly<Record<string, string>>,
    path: string,
    value: string | undefined,
    code: 'UNKNOWN_COUNTRY' | 'UNKNOWN_CURRENCY' | 'UNKNOWN_UNIT' | 'UNKNOWN_CUSTOMS_DISTRICT',
    zh: string,
    en: string,
  ) => {
    if (value !== undefined && !Object.hasOwn(table, value)) {
      out.push(
        violation(
          path,
          code,
          `${zh}代码 ${value} 不在海关代码表中`,
          `${en} code ${value} is not in the customs code table`,
        ),
      );
    }
  };
  check(codeTables.currencies, 'currency', order.currency, 'UNKNOWN_CURRENCY', '币制', 'currency');
  check(codeTables.countries, 'country', order.country, 'UNKNOWN_COUNTRY', '国家（地区）', 'country');
  check(
    codeTables.customsDistricts,
    'customsCode',
    order.customsCode,
    'UNKNOWN_CUSTOMS_DISTRICT',
    '申报海关',
    'customs district',
  );
  check(
    codeTables.customsDistricts,
    'portCode',
    order.portCode,
    'UNKNOWN_CUSTOMS_DISTRICT',
    '口岸海关',
    'port customs district',
  );
  order.items.forEach((item, i) => {
    check(codeTables.currencies, `items[${i}].currency`, item.currency, 'UNKNOWN_CURRENCY', '币制', 'currency');
    check(codeTables.countries, `items[${i}].country`, item.country, 'UNKNOWN_COUNTRY', '国家（地区）', 'country');
    check(
      codeTables.countries,
      `items[${i}].tradeCountry`,
      item.tradeCountry,
      'UNKNOWN_COUNTRY',
      '贸易国',
      'trade country',
    );
    check(codeTables.units, `items[${i}].unit`, item.unit, 'UNKNOWN_UNIT', '计量单位', 'unit');
    check(codeTables.units, `items[${i}].unit1`, item.unit1, 'UNKNOWN_UNIT', '法定计量单位', 'legal unit');
    check(codeTables.units, `items[${i}].unit2`, item.unit2, 'UNKNOWN_UNIT', '第二计量单位', 'second legal unit');
  });
  return out;
}
