import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DXP_NS, DxpError, dxpDateTime, looksLikeDxp, unwrapDxp, wrapDxp } from '../../src/centers/dxp';
import { OFFICIAL_CEB_DIR } from '../../src/centers/simulator/schema-check';
import { freshImportOrder, signedManifest } from './support';

const info = (copMsgId: string) => ({
  copMsgId,
  senderId: 'DXPENT0000460001',
  receiverIds: ['DXPEDCCEB0000002'],
  createdAt: new Date('2026-11-29T02:15:30Z'),
  msgType: 'CEB621Message',
});

describe('centers/dxp', () => {
  it('round-trips a signed CEB621 byte for byte, with the TransInfo it was wrapped with', async () => {
    const m = await signedManifest('CEB621', freshImportOrder());
    const envelope = wrapDxp(m.signed, info(m.guid));
    expect(
      envelope.startsWith(
        `<dxp:DxpMsg xmlns:dxp="${DXP_NS}" ver="1.0"><dxp:TransInfo><dxp:CopMsgId>${m.guid}</dxp:CopMsgId>`,
      ),
    ).to.equal(true);
    expect(envelope).to.include('<dxp:CreatTime>2026-11-29T10:15:30+08:00</dxp:CreatTime>');
    expect(looksLikeDxp(envelope)).to.equal(true);
    expect(looksLikeDxp(m.signed)).to.equal(false);
    const out = unwrapDxp(envelope);
    expect(out.message).to.equal(m.signed);
    expect(out.transInfo).to.deep.equal(info(m.guid));
  });

  it('is valid against the official dxp-transport-2022.xsd (when ../shared/ceb-2022 exists)', async function () {
    const xsd = join(OFFICIAL_CEB_DIR, 'xsd', 'dxp-transport-2022.xsd');
    if (!existsSync(xsd)) {
      console.log('official CEB schemas not found at ../shared/ceb-2022: XSD conformance checks not run');
      return;
    }
    const m = await signedManifest('CEB311', freshImportOrder());
    const dir = mkdtempSync(join(tmpdir(), 'baygate-dxp-'));
    try {
      const file = join(dir, 'dxp.xml');
      writeFileSync(
        file,
        wrapDxp(m.signed, {
          ...info(m.guid),
          receiverIds: ['DXPEDCCEB0000002', 'DXPEDCCEB0000003'],
          msgType: 'CEB311Message',
        }),
      );
      const out =
        execFileSync('xmllint', ['--noout', '--nonet', '--schema', xsd, file], { stdio: 'pipe' }).toString() + '';
      expect(out).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads an envelope written with a default namespace and whitespace inside Data', () => {
    const data = Buffer.from(
      '<ceb:CEB311Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="X"></ceb:CEB311Message>',
    ).toString('base64');
    const folded = data.replace(/(.{20})/g, '$1\n  ');
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<DxpMsg xmlns="${DXP_NS}" ver="1.0"><TransInfo><CopMsgId>X</CopMsgId><SenderId>S</SenderId><ReceiverIds><ReceiverId>R</ReceiverId></ReceiverIds><CreatTime>2026-11-29T10:15:30</CreatTime><MsgType>CEB311Message</MsgType></TransInfo><Data>\n  ${folded}\n</Data></DxpMsg>`;
    expect(looksLikeDxp(xml)).to.equal(true);
    expect(unwrapDxp(xml).message).to.match(/^<ceb:CEB311Message/);
  });

  const hostile: [string, string, RegExp][] = [
    [
      'a DOCTYPE (entity expansion)',
      `<!DOCTYPE d [<!ENTITY x "y">]><dxp:DxpMsg xmlns:dxp="${DXP_NS}" ver="1.0"></dxp:DxpMsg>`,
      /DOCTYPE/,
    ],
    [
      'another root element',
      `<DxpMsgSv xmlns="${DXP_NS}" ver="1.0"></DxpMsgSv>`,
      /is not \{http:\/\/www.chinaport.gov.cn\/dxp\}DxpMsg/,
    ],
    ['the wrong namespace', '<DxpMsg xmlns="urn:other" ver="1.0"></DxpMsg>', /is not/],
    ['a wrong version', `<DxpMsg xmlns="${DXP_NS}" ver="2.0"></DxpMsg>`, /ver must be "1.0"/],
    [
      'no TransInfo',
      `<DxpMsg xmlns="${DXP_NS}" ver="1.0"><Data>QQ==</Data></DxpMsg>`,
      /expected one <TransInfo>, found 0/,
    ],
  ];
  for (const [what, xml, reason] of hostile) {
    it(`refuses ${what}`, () => {
      expect(() => unwrapDxp(xml)).to.throw(DxpError, reason);
    });
  }

  it('refuses Data that is not Base64 or decodes to something other than UTF-8, and oversized Data', async () => {
    const m = await signedManifest('CEB311', freshImportOrder());
    const good = wrapDxp(m.signed, info(m.guid));
    expect(() => unwrapDxp(good.replace(/<dxp:Data>[^<]+/, '<dxp:Data>not*base64'))).to.throw(
      DxpError,
      /not valid Base64/,
    );
    expect(() =>
      unwrapDxp(good.replace(/<dxp:Data>[^<]+/, `<dxp:Data>${Buffer.from([0xff, 0xfe, 0xfd]).toString('base64')}`)),
    ).to.throw(DxpError, /UTF-8/);
    expect(() => unwrapDxp(good, { maxBytes: 1 << 20, maxDepth: 16, maxDataBytes: 100 })).to.throw(
      DxpError,
      /exceeds 100 bytes/,
    );
    expect(() => unwrapDxp(good, { maxBytes: 100, maxDepth: 16, maxDataBytes: 1 << 20 })).to.throw(
      DxpError,
      /XML_TOO_LARGE/,
    );
  });

  it('refuses to wrap with ids the schema would reject', () => {
    expect(() => wrapDxp('<a></a>', { ...info('X'), senderId: 'S'.repeat(17) })).to.throw(DxpError, /SenderId/);
    expect(() => wrapDxp('<a></a>', { ...info('X'), receiverIds: [] })).to.throw(DxpError, /1–5 receiver/);
  });

  it('writes CreatTime in China Standard Time', () => {
    expect(dxpDateTime(new Date('2026-12-31T16:30:00Z'))).to.equal('2027-01-01T00:30:00+08:00');
  });
});
