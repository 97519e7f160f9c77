/**
 * What E-port tooling does to messages after signing, as seen in the official samples: the Signature is
 * put on its own indented line, every ds element on its own line, and the Base64 values wrapped at 76
 * characters. The signature was computed over the compact form, so only a verifier in 'eport'
 * compatibility mode can still check it.
 */
export function reindentLikeEport(signedXml: string): string {
  const start = signedXml.indexOf('<ds:Signature ');
  const end = signedXml.indexOf('</ds:Signature>') + '</ds:Signature>'.length;
  const wrap = (b64: string): string => '\n' + (b64.match(/.{1,76}/g) ?? []).join('\n') + '\n';
  const pretty = signedXml
    .slice(start, end)
    .replace(/></g, '>\n<')
    .replace(/<ds:(DigestValue|KeyName)>\n/g, '<ds:$1>')
    .replace(
      /\n<\/ds:(DigestValue|KeyName|Transform|CanonicalizationMethod|SignatureMethod|DigestMethod)>/g,
      '</ds:$1>',
    )
    .replace(
      /<ds:(SignatureValue|X509Certificate)>([^<]*)<\/ds:\1>/g,
      (_m, el: string, b64: string) => `<ds:${el}>${wrap(b64)}</ds:${el}>`,
    );
  return signedXml.slice(0, start) + '\n\t' + pretty + '\n' + signedXml.slice(end);
}
