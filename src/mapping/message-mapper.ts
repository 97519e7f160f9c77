import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CebFormatError, formatCebDate, formatCebDateTime, formatCebDecimal, formatCebInt } from '../xml/ceb-formats';
import { invalidXmlCharIndex } from '../xml/canonical-text';
import { MAPPING_FUNCTION_IMPLS, type MappingScope } from './message-functions';
import {
  INPUT_ROOTS,
  isGroup,
  isOmitted,
  messageMappingSchema,
  REQUEST_ROOTS,
  type InputRoot,
  type RequestRoot,
  type ElementMapping,
  type LeafMapping,
  type MessageMapping,
  type ValueSource,
} from './message-mapping-schema';
import type { MappingKey } from '../domain/message-types';

/**
 * Loads the message mapping files and compiles each into a plan the builder runs: resolved accessors,
 * formatters and facet checks, so per-message work is a walk over a small array with no parsing, no
 * lookups by name and no DOM.
 */

export const DEFAULT_MAPPINGS_DIR = fileURLToPath(new URL('../../mappings/messages/', import.meta.url));

export class MappingFileError extends Error {
  constructor(
    public readonly file: string,
    public readonly problems: string[],
  ) {
    super(`invalid message mapping ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'MappingFileError';
  }
}

/** One problem with the data while building: where in the message, which source, why. */
export interface BuildViolation {
  /** Element path in the message, e.g. "Order/OrderList[2]/qty". */
  element: string;
  /** The mapping's source, e.g. "order.items[1].qty" or "const 142". */
  source: string;
  reason: string;
}

type Resolver = (scope: MappingScope) => unknown;

export interface CompiledLeaf {
  kind: 'leaf';
  name: string;
  optional: boolean;
  describe: (scope: MappingScope) => string;
  resolve: Resolver;
  format: (raw: unknown) => string;
  check: (text: string) => string | undefined;
}

export interface CompiledGroup {
  kind: 'group';
  name: string;
  /** forEach groups of minOccurs 0: no entries, nothing written. */
  optional: boolean;
  forEach?: Resolver;
  forEachSource?: string;
  children: CompiledNode[];
}

export type CompiledNode = CompiledLeaf | CompiledGroup;

export interface CompiledMapping {
  key: MappingKey;
  file: string;
  mapping: MessageMapping;
  children: CompiledNode[];
}

function describeSource(src: ValueSource): string {
  if ('path' in src) return src.path;
  if ('const' in src) return `const "${src.const}"`;
  if ('fn' in src) return `fn ${src.fn}`;
  return `firstOf(${src.firstOf.map(describeSource).join(', ')})`;
}

function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/** What a file's paths may read: its input, its request, and item/sender/options. */
interface CompileContext {
  input: InputRoot;
  request: RequestRoot | undefined;
  problems: string[];
}

function compileSource(src: ValueSource, where: string, inForEach: boolean, cc: CompileContext): Resolver {
  if ('const' in src) {
    const value = src.const;
    return () => value;
  }
  if ('fn' in src) return MAPPING_FUNCTION_IMPLS[src.fn];
  if ('firstOf' in src) {
    const parts = src.firstOf.map((s, i) => compileSource(s, `${where}.firstOf[${i}]`, inForEach, cc));
    return (scope) => {
      for (const part of parts) {
        const v = part(scope);
        if (isPresent(v)) return v;
      }
      return undefined;
    };
  }
  const [root, ...fields] = src.path.split('.') as [string, ...string[]];
  if (root === 'item' && !inForEach) cc.problems.push(`${where}: path "${src.path}" uses item outside a forEach group`);
  if ((INPUT_ROOTS as readonly string[]).includes(root) && root !== cc.input)
    cc.problems.push(`${where}: path "${src.path}" reads ${root}, but this message is built from a ${cc.input}`);
  if ((REQUEST_ROOTS as readonly string[]).includes(root) && root !== cc.request)
    cc.problems.push(
      `${where}: path "${src.path}" reads the ${root} request, but the file declares ${cc.request ? `"request": "${cc.request}"` : 'no request'}`,
    );
  const pick: (scope: MappingScope) => unknown =
    root === 'order'
      ? (s) => s.order
      : root === 'shipment'
        ? (s) => s.shipment
        : root === 'summary'
          ? (s) => s.summary
          : root === 'item'
            ? (s) => s.item
            : root === 'sender'
              ? (s) => s.ctx.sender
              : root === 'options'
                ? (s) => s.ctx.options
                : (s) => s.ctx[root as RequestRoot];
  return (scope) => {
    let v: unknown = pick(scope);
    for (const f of fields) {
      if (v === null || typeof v !== 'object' || !Object.hasOwn(v, f)) return undefined;
      v = (v as Record<string, unknown>)[f];
    }
    return v;
  };
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function compileLeaf(leaf: LeafMapping, where: string, inForEach: boolean, cc: CompileContext): CompiledLeaf {
  const resolve = compileSource(leaf.value, `${where}.value`, inForEach, cc);
  const sourceText = describeSource(leaf.value);
  const format: (raw: unknown) => string =
    leaf.format === 'decimal'
      ? (raw) => formatCebDecimal(raw)
      : leaf.format === 'int'
        ? formatCebInt
        : leaf.format === 'datetime'
          ? formatCebDateTime
          : leaf.format === 'date'
            ? formatCebDate
            : (raw) => {
                if (typeof raw === 'string') return raw;
                if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
                throw new CebFormatError(`expected text, got ${typeof raw}`);
              };
  const { length, minLength, maxLength } = leaf;
  const min = Math.max(minLength ?? 0, leaf.optional ? 0 : 1);
  const check = (text: string): string | undefined => {
    const bad = invalidXmlCharIndex(text);
    if (bad !== -1)
      return `contains a character XML cannot carry (U+${text.charCodeAt(bad).toString(16).toUpperCase().padStart(4, '0')} at ${bad})`;
    // XSD lengths count characters (code points). A JS string's length is at least that count, so code
    // points are only counted when the quick length could be wrong about the outcome.
    const mayDiffer = length !== undefined || (maxLength !== undefined && text.length > maxLength);
    const n = mayDiffer ? codePoints(text) : text.length;
    if (length !== undefined && n !== length) return `must be exactly ${length} characters, got ${n} ("${text}")`;
    if (maxLength !== undefined && n > maxLength) return `must be at most ${maxLength} characters, got ${n}`;
    if (n < min) return min === 1 ? 'must not be empty' : `must be at least ${min} characters, got ${n}`;
    return undefined;
  };
  // Paths inside forEach groups are reported with the entry index, e.g. order.items[1].qty.
  const describe =
    inForEach && sourceText.includes('item.')
      ? (scope: MappingScope): string => sourceText.replace(/\bitem(?=\.)/g, scope.itemLabel)
      : (): string => sourceText;
  return { kind: 'leaf', name: leaf.element, optional: leaf.optional, describe, resolve, format, check };
}

function compileNodes(nodes: ElementMapping[], where: string, inForEach: boolean, cc: CompileContext): CompiledNode[] {
  const problems = cc.problems;
  const out: CompiledNode[] = [];
  const seen = new Set<string>();
  nodes.forEach((node, i) => {
    const at = `${where}/${node.element}`;
    if (seen.has(node.element)) problems.push(`${at}: element listed twice (content[${i}])`);
    seen.add(node.element);
    if (isOmitted(node)) return;
    if (isGroup(node)) {
      const group: CompiledGroup = {
        kind: 'group',
        name: node.element,
        optional: node.optional ?? false,
        children: [],
      };
      if (node.optional && !node.forEach) problems.push(`${at}: "optional" applies to forEach groups only`);
      if (node.forEach) {
        group.forEach = compileSource(node.forEach, `${at}.forEach`, inForEach, cc);
        group.forEachSource = describeSource(node.forEach);
      }
      group.children = compileNodes(node.content, at, inForEach || node.forEach !== undefined, cc);
      out.push(group);
      return;
    }
    if (node.element.startsWith('ds:'))
      problems.push(`${at}: ds: elements are written by the signing layer; mark it omit`);
    out.push(compileLeaf(node, at, inForEach, cc));
  });
  return out;
}

/** Renders a zod issue path of a mapping file with element names: "content[0](Order).content[1](OrderList).value.fn". */
function describeIssuePath(raw: unknown, path: readonly PropertyKey[]): string {
  let node: unknown = raw;
  let out = '';
  for (const seg of path) {
    node =
      node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[seg as string] : undefined;
    if (typeof seg === 'number') {
      out += `[${seg}]`;
      const name = node !== null && typeof node === 'object' ? (node as { element?: unknown }).element : undefined;
      if (typeof name === 'string') out += `(${name})`;
    } else out += (out ? '.' : '') + String(seg);
  }
  return out || '(file)';
}

export function mappingKeyOf(m: MessageMapping): MappingKey {
  return (m.variant ? `${m.type}-${m.variant}` : m.type) as MappingKey;
}

/** Validates and compiles one mapping file's JSON text. Throws MappingFileError naming file, path and reason. */
export function compileMappingText(file: string, text: string): CompiledMapping {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new MappingFileError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  const parsed = messageMappingSchema.safeParse(raw);
  if (!parsed.success) {
    throw new MappingFileError(
      file,
      parsed.error.issues.map((i) => `${describeIssuePath(raw, i.path)}: ${i.message}`),
    );
  }
  const problems: string[] = [];
  const cc: CompileContext = { input: parsed.data.input, request: parsed.data.request, problems };
  const children = compileNodes(parsed.data.content, parsed.data.root, false, cc);
  if (problems.length > 0) throw new MappingFileError(file, problems);
  return { key: mappingKeyOf(parsed.data), file, mapping: parsed.data, children };
}

/** Loads every *.json in `dir`; two files for one key is an error. */
export function loadMessageMappings(dir: string = DEFAULT_MAPPINGS_DIR): Map<MappingKey, CompiledMapping> {
  const out = new Map<MappingKey, CompiledMapping>();
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const file = join(dir, name);
    const compiled = compileMappingText(basename(file), readFileSync(file, 'utf8'));
    const clash = out.get(compiled.key);
    if (clash) throw new MappingFileError(compiled.file, [`maps ${compiled.key}, which ${clash.file} maps already`]);
    out.set(compiled.key, compiled);
  }
  return out;
}
