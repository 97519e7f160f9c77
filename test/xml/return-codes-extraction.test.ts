import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractReturnCodes, toReturnCodeTable } from '../../scripts/extract-return-codes';
import { OFFICIAL_CEB_DIR, noteOfficialMissing } from './support/xsd-sequence';

/** The code table is generated from the specification text; these tests keep the generator honest. */
describe('return-code extraction (scripts/extract-return-codes.ts)', () => {
  const SNIPPET = [
    '7.      错误信息................ 112', // table of contents line
    '8.      报文对接流程............ 117',
    '7. 错误信息',
    '                  表 7-1 数据交换平台错误信息及其代码',
    '错误代码范围            错误类型          错误代码                  错误信息',
    '                               0001         报文格式错误',
    '0001 至 0999   报文格式错误           0002         数据包不能通过 schema 验证',
    '                               2002         地址不匹配，报文的实际接收方与该报文的',
    '2000 至 2999',
    '              逻辑错误                          “接收方”定义不同',
    '3000 至 3999   系统级错误',
    '                 7-2 出口统一版业务报文错误信息及其代码',
    '-301001    订单信息',
    '                   -301010   已存在相同编号的订单',
    '至-301017   错误',
    '-621000    清单操作   -621018   清单[*]中购买人[*]已用购买额度为[*]，本次购买将超过',
    '                            年度限额[*]',
    '',
    '                                      113',
    '                  -621027   保存失败，请确认状态并刷新重试',
    '                  -621027   请确认表体 gnum 无重复！',
    '8. 报文对接流程',
    '                  -999999   after the section: ignored',
  ].join('\n');

  it('reads codes, joins wrapped messages, and skips range labels, page numbers and the contents', () => {
    const rows = extractReturnCodes(SNIPPET);
    expect(rows.map((r) => [r.code, r.message])).to.deep.equal([
      ['0001', '报文格式错误'],
      ['0002', '数据包不能通过 schema 验证'],
      ['2002', '地址不匹配，报文的实际接收方与该报文的“接收方”定义不同'],
      ['-301010', '已存在相同编号的订单'],
      ['-621018', '清单[*]中购买人[*]已用购买额度为[*]，本次购买将超过年度限额[*]'],
      ['-621027', '保存失败，请确认状态并刷新重试'],
      ['-621027', '请确认表体 gnum 无重复！'],
    ]);
    expect(rows[0]).to.include({ table: 'dxp', category: 'message format' });
    expect(rows[3]).to.include({ table: 'business', category: 'order' });
  });

  it('keeps both messages of a code listed twice', () => {
    const table = toReturnCodeTable(extractReturnCodes(SNIPPET), 'snippet') as {
      codes: Record<string, { messages: string[] }>;
    };
    expect(table.codes['-621027']?.messages).to.have.length(2);
  });

  it('the committed mappings/codes/return-codes.json is what the script makes from the official specification', function () {
    const spec = join(OFFICIAL_CEB_DIR, 'spec-2022-05.txt');
    if (!existsSync(spec)) {
      noteOfficialMissing();
      return;
    }
    const fresh = toReturnCodeTable(
      extractReturnCodes(readFileSync(spec, 'utf8')),
      'CEB specification 2022-05, §7 错误信息 (tables 7-1 and 7-2)',
    );
    const committed = JSON.parse(readFileSync(join(process.cwd(), 'mappings', 'codes', 'return-codes.json'), 'utf8'));
    expect(committed).to.deep.equal(JSON.parse(JSON.stringify(fresh)));
    expect(Object.keys(committed.codes).length).to.be.greaterThan(150);
  });
});
