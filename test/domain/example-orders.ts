/** Loads the shipped example orders (examples/orders) for tests. */
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parseBaygateOrderOrThrow,
  type BaygateOrder,
  type ExportOrder,
  type ImportOrder,
} from '../../src/domain/order';

export const examplesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'orders');

export function readExample(name: string, folder = examplesDir): unknown {
  return JSON.parse(readFileSync(join(folder, `${name}.json`), 'utf8'));
}

export function exampleNames(folder = examplesDir): string[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json') && f !== 'expected.json')
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

export function loadExample(name: string): BaygateOrder {
  return parseBaygateOrderOrThrow(readExample(name));
}

export function importExample(name = 'gz-9610-direct-purchase'): ImportOrder {
  const order = loadExample(name);
  if (order.direction !== 'import') throw new Error(`${name} is not an import order`);
  return order;
}

export function exportExample(name = 'export-9610-to-hong-kong'): ExportOrder {
  const order = loadExample(name);
  if (order.direction !== 'export') throw new Error(`${name} is not an export order`);
  return order;
}

/** Deep copy, so a test can break one field without touching the others' fixtures. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
