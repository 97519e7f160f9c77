/**
 * What XML 1.0 can carry (the Char production): tab, line feed, carriage return, and U+0020–U+D7FF,
 * U+E000–U+FFFD, U+10000–U+10FFFF. Anything else — U+0000 and the other C0 controls, U+FFFE/U+FFFF, a
 * lone surrogate (JSON's "\ud800" parses to one) — cannot be written into a customs message at all, so it
 * is refused where the text enters, never found later by a signer or a center.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** The first character XML cannot carry: its position (in UTF-16 units) and U+ code point; undefined if none. */
export function firstNonXmlChar(text: string): { index: number; codePoint: string } | undefined {
  const m = NOT_XML_CHAR.exec(text);
  if (!m) return undefined;
  const code = m[0].codePointAt(0) ?? 0;
  return { index: m.index, codePoint: `U+${code.toString(16).toUpperCase().padStart(4, '0')}` };
}

interface Step {
  parent?: Step;
  /** "[3]" or a property name. */
  segment: string;
}

function pathOf(step: Step | undefined): string {
  const segments: string[] = [];
  for (let at = step; at; at = at.parent) segments.push(at.segment);
  return segments
    .reverse()
    .map((seg, i) => (seg.startsWith('[') || i === 0 ? seg : `.${seg}`))
    .join('');
}

/**
 * Every string (and property name) of a JSON-like value XML cannot carry, with its path in order notation
 * (items[0].gname). Iterative, and paths are only spelled out for what is found: input nested 10,000
 * deep costs neither the stack nor quadratic memory.
 */
export function nonXmlText(value: unknown): { path: string; index: number; codePoint: string }[] {
  const found: { path: string; index: number; codePoint: string }[] = [];
  const pending: { value: unknown; at?: Step }[] = [{ value }];
  while (pending.length > 0) {
    const { value: v, at } = pending.pop()!;
    if (typeof v === 'string') {
      const bad = firstNonXmlChar(v);
      if (bad) found.push({ path: pathOf(at), ...bad });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) pending.push({ value: v[i], at: { parent: at, segment: `[${i}]` } });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!;
        const step = { parent: at, segment: key };
        const bad = firstNonXmlChar(key);
        if (bad) found.push({ path: pathOf(step), ...bad });
        pending.push({ value: item, at: step });
      }
    }
  }
  return found;
}
