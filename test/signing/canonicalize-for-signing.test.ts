import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { canonicalizeForSigning } from '../../src/signing/safe-xml';
import { SigningError, VerificationError } from '../../src/signing/errors';

/** Canonicalisation of files that did not come from our builder (CLI input), checked against xmllint --c14n. */
const unsigned = readFileSync(new URL('../fixtures/signing/ceb311-unsigned.xml', import.meta.url), 'utf8');

// A hand-written, non-canonical rendering of the fixture: declaration, indentation, single quotes,
// self-closing element, attribute order, CRLF line ends. (No comment here: `xmllint --c14n` keeps comments.)
const pretty = `<?xml version="1.0" encoding="UTF-8"?>\r\n<ceb:CEB311Message version='1.0' guid="6F1C2E4A-8B3D-4E5F-9A0B-1C2D3E4F5A6B"\r\n    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ceb="http://www.chinaport.gov.cn/ceb">\r\n\t<ceb:Order>\r\n\t\t<ceb:note/>\r\n\t</ceb:Order>\r\n</ceb:CEB311Message>\r\n`;

describe('signing/canonicalizeForSigning', () => {
  it('gives the same bytes as xmllint --c14n for a non-canonical file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baygate-c14n-'));
    try {
      const file = join(dir, 'pretty.xml');
      writeFileSync(file, pretty);
      expect(canonicalizeForSigning(pretty)).to.equal(execFileSync('xmllint', ['--c14n', file], { encoding: 'utf8' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops comments (C14N without comments, what the digest covers)', () => {
    expect(canonicalizeForSigning('<!-- before --><a><!-- inside -->x</a>')).to.equal('<a>x</a>');
  });

  it('leaves builder output (already canonical) unchanged', () => {
    expect(canonicalizeForSigning(unsigned)).to.equal(unsigned);
  });

  it('refuses a message that is already signed (INPUT_ALREADY_SIGNED)', () => {
    const signed = readFileSync(new URL('../fixtures/signing/ceb311-signed-rsa.xml', import.meta.url), 'utf8');
    expect(() => canonicalizeForSigning(signed))
      .to.throw(SigningError)
      .with.property('code', 'INPUT_ALREADY_SIGNED');
  });

  it('refuses a DOCTYPE in untrusted input (XML_DOCTYPE_FORBIDDEN)', () => {
    expect(() => canonicalizeForSigning('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'))
      .to.throw(VerificationError)
      .with.property('code', 'XML_DOCTYPE_FORBIDDEN');
  });
});
