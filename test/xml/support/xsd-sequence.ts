import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';

/**
 * Reads the element tree of a CEB message straight from the official XSD, so tests compare our mapping
 * files and output against the schema itself rather than against a hand-copied list.
 * Test-only: the official files live outside the repository (`../shared/ceb-2022`) and are absent on
 * users' machines.
 */

const XS = 'http://www.w3.org/2001/XMLSchema';

/** `../shared/ceb-2022` from the repository root; BAYGATE_OFFICIAL_CEB_DIR overrides it (e.g. to rehearse its absence). */
export const OFFICIAL_CEB_DIR =
  process.env.BAYGATE_OFFICIAL_CEB_DIR ?? resolve(process.cwd(), '..', 'shared', 'ceb-2022');
export const OFFICIAL_MISSING_NOTE =
  'official CEB schemas not found at ../shared/ceb-2022: XSD conformance checks not run';

let noted = false;
/** Prints OFFICIAL_MISSING_NOTE once per test run (every skipped official check calls this). */
export function noteOfficialMissing(): void {
  if (noted) return;
  noted = true;
  console.log(`      ${OFFICIAL_MISSING_NOTE}`);
}

export function officialCebAvailable(): boolean {
  return existsSync(join(OFFICIAL_CEB_DIR, 'xsd', 'ceb-import-2022.xsd'));
}

export function officialXsdPath(side: 'import' | 'export'): string {
  return join(OFFICIAL_CEB_DIR, 'xsd', `ceb-${side}-2022.xsd`);
}

export interface XsdFacets {
  length?: number;
  minLength?: number;
  maxLength?: number;
  totalDigits?: number;
  fractionDigits?: number;
  fixed?: string;
  base?: string;
}

export interface XsdNode {
  /** Local name; elements from the ds namespace are prefixed `ds:`. */
  name: string;
  minOccurs: number;
  /** `Infinity` for unbounded. */
  maxOccurs: number;
  children: XsdNode[];
  facets: XsdFacets;
}

type El = {
  localName: string;
  namespaceURI: string | null;
  getAttribute(n: string): string | null;
  childNodes: ArrayLike<unknown>;
};

function xsChildren(el: El, local?: string): El[] {
  const out: El[] = [];
  for (let i = 0; i < el.childNodes.length; i++) {
    const n = el.childNodes[i] as El & { nodeType: number };
    if (n.nodeType === 1 && n.namespaceURI === XS && (local === undefined || n.localName === local)) out.push(n);
  }
  return out;
}

function occurs(value: string | null, dflt: number): number {
  if (value === null || value === '') return dflt;
  return value === 'unbounded' ? Infinity : Number(value);
}

const cache = new Map<string, Map<string, El>>();

function globalElements(side: 'import' | 'export'): Map<string, El> {
  const hit = cache.get(side);
  if (hit) return hit;
  const doc = new DOMParser().parseFromString(readFileSync(officialXsdPath(side), 'utf8'), 'text/xml');
  const schema = doc.documentElement as unknown as El;
  const map = new Map<string, El>();
  for (const el of xsChildren(schema, 'element')) map.set(el.getAttribute('name') ?? '', el);
  cache.set(side, map);
  return map;
}

function facetsOf(decl: El): XsdFacets {
  const facets: XsdFacets = {};
  const fixed = decl.getAttribute('fixed');
  if (fixed) facets.fixed = fixed;
  const type = decl.getAttribute('type');
  if (type) facets.base = type.replace(/^xs:/, '');
  for (const st of xsChildren(decl, 'simpleType')) {
    for (const r of xsChildren(st, 'restriction')) {
      facets.base = (r.getAttribute('base') ?? '').replace(/^xs:/, '');
      for (const f of xsChildren(r)) {
        const v = f.getAttribute('value');
        if (v === null) continue;
        if (['length', 'minLength', 'maxLength', 'totalDigits', 'fractionDigits'].includes(f.localName)) {
          (facets as Record<string, number>)[f.localName] = Number(v);
        }
      }
    }
  }
  return facets;
}

function build(side: 'import' | 'export', particle: El, depth: number): XsdNode {
  const ref = particle.getAttribute('ref');
  const minOccurs = occurs(particle.getAttribute('minOccurs'), 1);
  const maxOccurs = occurs(particle.getAttribute('maxOccurs'), 1);
  if (ref?.startsWith('ds:')) return { name: ref, minOccurs, maxOccurs, children: [], facets: {} };
  let decl = particle;
  let name = particle.getAttribute('name') ?? '';
  if (ref) {
    name = ref.replace(/^ceb:/, '');
    const g = globalElements(side).get(name);
    if (!g) throw new Error(`XSD ${side}: no global element ${ref}`);
    decl = g;
  }
  const children: XsdNode[] = [];
  if (depth < 8 && decl.getAttribute('type') !== 'ceb:XMLElement') {
    for (const ct of xsChildren(decl, 'complexType')) {
      for (const seq of xsChildren(ct, 'sequence')) {
        for (const child of xsChildren(seq, 'element')) children.push(build(side, child, depth + 1));
      }
    }
  }
  return { name, minOccurs, maxOccurs, children, facets: facetsOf(decl) };
}

/** The element tree of `<root>` (e.g. `CEB311Message`) as declared in the official schema. */
export function xsdMessageTree(side: 'import' | 'export', root: string): XsdNode {
  const decl = globalElements(side).get(root);
  if (!decl) throw new Error(`XSD ${side}: no message ${root}`);
  return build(side, decl, 0);
}
