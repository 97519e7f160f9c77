import type { Db, Document } from 'mongodb';

/** How a query is served, as the server's own `explain` says. */
export interface IndexVerdict {
  /** An index narrows the documents read (FerretDB: a filter pushed down to an SQLite index; MongoDB: IXSCAN). */
  indexed: boolean;
  /** The sort is read in index order (no sort of the documents after reading them). */
  sortedByIndex: boolean;
  /** The server's words: SQLite's plan lines, or MongoDB's winning plan stages. */
  detail: string;
}

/**
 * `explain` of a find with this filter, sort and limit, read for index use on either server: MongoDB 7
 * (queryPlanner.winningPlan: IXSCAN/IDHACK/EXPRESS_* and no COLLSCAN; a SORT stage means an in-memory sort)
 * or FerretDB 1.24 with Baygate's patches (filterPushdown and SQLite's plan `SEARCH … USING INDEX`;
 * sortPushdown and no `USE TEMP B-TREE FOR ORDER BY`). Updates, deletes and findAndModify select their
 * documents with the same query machinery on both, so their filters are explained as finds.
 */
export async function explainFind(
  db: Db,
  collection: string,
  filter: Document,
  options: { sort?: Document; limit?: number } = {},
): Promise<IndexVerdict> {
  let cursor = db.collection(collection).find(filter);
  if (options.sort) cursor = cursor.sort(options.sort);
  if (options.limit) cursor = cursor.limit(options.limit);
  const explained = (await cursor.explain('queryPlanner')) as Document;
  if (typeof explained.serverInfo?.ferretdbVersion === 'string' || 'filterPushdown' in explained) {
    const lines = ((explained.queryPlanner as { Plan?: string[] })?.Plan ?? []).map((l) =>
      l.replace(/id=\d+ parent=\d+ notused=\d+ detail=/, ''),
    );
    const plan = lines.join(' | ');
    // Every table access a SEARCH through an index (a SCAN, even of an index, reads it all).
    const accesses = lines.filter((l) => /^(SEARCH|SCAN) /.test(l));
    const usesIndex =
      accesses.length > 0 && accesses.every((l) => /^SEARCH \S+ USING (COVERING )?(INDEX|INTEGER PRIMARY KEY)/.test(l));
    return {
      indexed: explained.filterPushdown === true && usesIndex,
      sortedByIndex: !options.sort || (explained.sortPushdown === true && !/TEMP B-TREE FOR ORDER BY/.test(plan)),
      detail: plan,
    };
  }
  const stages: string[] = [];
  const walk = (node: Document | undefined) => {
    if (!node) return;
    if (typeof node.stage === 'string') stages.push(node.stage + (node.indexName ? `(${node.indexName})` : ''));
    walk(node.inputStage as Document | undefined);
    for (const s of (node.inputStages as Document[] | undefined) ?? []) walk(s);
    // MongoDB 7 with the slot-based engine nests the classic plan under queryPlan.
    walk(node.queryPlan as Document | undefined);
  };
  walk((explained.queryPlanner as Document)?.winningPlan as Document);
  const all = stages.join(' > ');
  return {
    indexed: /IXSCAN|IDHACK|EXPRESS_/.test(all) && !/COLLSCAN/.test(all),
    sortedByIndex: !options.sort || !/\bSORT\b/.test(all),
    detail: all,
  };
}
