import { createServer, connect, type Server, type Socket } from 'node:net';
import { MongoBulkWriteError, type Db, type Document, type FindCursor } from 'mongodb';

/** Which server MONGO_URL is: what the contract asserts about query plans depends on it. */
export type ServerInfo =
  { kind: 'ferretdb'; version: string; build: string } | { kind: 'mongodb'; version: string; build: string };

export async function serverInfo(db: Db): Promise<ServerInfo> {
  const info = (await db.admin().command({ buildInfo: 1 })) as {
    version?: string;
    gitVersion?: string;
    ferretdbVersion?: string;
  };
  if (typeof info.ferretdbVersion === 'string') {
    return { kind: 'ferretdb', version: info.ferretdbVersion, build: info.gitVersion ?? 'unknown' };
  }
  return { kind: 'mongodb', version: info.version ?? 'unknown', build: info.gitVersion ?? 'unknown' };
}

/**
 * The rule the store must apply to a failed unordered `insertMany` (src/store/bulk-writes.ts, duplicateIndexes):
 * it failed ONLY because of duplicates when, and only when, it is a MongoBulkWriteError whose `writeErrors`
 * are all 11000 and, with the documents inserted, account for every document. Anything else is a failure to
 * retry, in particular the MongoBulkWriteError with EMPTY `writeErrors` that driver 7.8 raises when the
 * connection drops mid-insert (some, none or all documents may then be stored; a retry reports the stored
 * ones as duplicates).
 */
export function failedOnlyOnDuplicates(error: unknown, documents: number): boolean {
  if (!(error instanceof MongoBulkWriteError)) return false;
  const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  if (writeErrors.length === 0 || !writeErrors.every((w) => w.code === 11000)) return false;
  return error.insertedCount + writeErrors.length === documents;
}

/**
 * A TCP proxy in front of the server that can cut every connection in the middle of a large request
 * (`cut: 'request'`: the server never gets all of it) or right after the server received it, before the reply
 * (`cut: 'reply'`: the server did the work, the client never hears of it).
 */
export interface CuttingProxy {
  readonly port: number;
  /** Cut on the next client message of at least `minBytes` bytes. */
  arm(cut: 'request' | 'reply', minBytes: number): void;
  /** Resolves once a cut happened. */
  readonly cutDone: Promise<void>;
  close(): Promise<void>;
}

export async function cuttingProxy(target: { host: string; port: number }): Promise<CuttingProxy> {
  const sockets = new Set<Socket>();
  let armed: { cut: 'request' | 'reply'; minBytes: number } | undefined;
  let cutDone!: () => void;
  const cutPromise = new Promise<void>((resolveCut) => (cutDone = resolveCut));
  const cutAll = (): void => {
    for (const s of sockets) s.destroy();
    armed = undefined;
    cutDone();
  };

  const server: Server = createServer((client) => {
    const upstream = connect(target);
    sockets.add(client);
    sockets.add(upstream);
    // wire messages start with their int32 length: follow the client's message boundaries
    let header = Buffer.alloc(0); // the current message's length bytes read so far
    let remaining = 0; // bytes of the current message still to forward
    let awaitingReply = false;
    client.on('data', (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length) {
        if (remaining === 0) {
          const part = chunk.subarray(offset, offset + 4 - header.length);
          header = Buffer.concat([header, part]);
          offset += part.length;
          if (header.length < 4) return;
          const length = header.readInt32LE(0);
          upstream.write(header);
          header = Buffer.alloc(0);
          remaining = length - 4;
          if (armed && length >= armed.minBytes) {
            if (armed.cut === 'request') {
              // forward part of the message, then cut: the server never gets all of it
              const part2 = chunk.subarray(offset, offset + Math.floor(Math.min(remaining, chunk.length - offset) / 2));
              upstream.write(part2, () => cutAll());
              return;
            }
            armed = undefined;
            awaitingReply = true;
          }
          continue;
        }
        const take = Math.min(remaining, chunk.length - offset);
        upstream.write(chunk.subarray(offset, offset + take));
        remaining -= take;
        offset += take;
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (awaitingReply) {
        cutAll(); // the server has answered the armed request: the client never gets the answer
        return;
      }
      client.write(chunk);
    });
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    arm: (cut, minBytes) => (armed = { cut, minBytes }),
    cutDone: cutPromise,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((closed) => server.close(() => closed()));
    },
  };
}

/** What a server's explain says about one query: the indexes it reads, and whether it sorts or scans. */
export interface QueryPlanFacts {
  /** Index names used (FerretDB: from SQLite's `USING INDEX <table>_<index>`; MongoDB: IXSCAN/IDHACK stages). */
  indexes: string[];
  /** The whole collection is read (FerretDB: `SCAN <table>` or no pushdown; MongoDB: COLLSCAN). */
  scans: boolean;
  /** The server sorts in memory (FerretDB: sort not pushed down or a TEMP B-TREE; MongoDB: a SORT stage). */
  sortsInMemory: boolean;
  /** The limit is applied where the rows are read (FerretDB: limitPushdown; MongoDB: a LIMIT stage). */
  limited: boolean;
  /** The server's own words, for the failure message. */
  raw: string;
}

interface FerretExplain {
  queryPlanner?: { Plan?: string[]; SQL?: string };
  filterPushdown?: boolean;
  sortPushdown?: boolean;
  limitPushdown?: boolean;
}

function mongoStages(plan: unknown, into: { stage: string; indexName?: string }[] = []): typeof into {
  if (Array.isArray(plan)) {
    for (const p of plan) mongoStages(p, into);
  } else if (plan && typeof plan === 'object') {
    const o = plan as Record<string, unknown>;
    if (typeof o.stage === 'string') {
      into.push({ stage: o.stage, indexName: typeof o.indexName === 'string' ? o.indexName : undefined });
    }
    for (const [k, v] of Object.entries(o)) {
      if (k !== 'rejectedPlans') mongoStages(v, into);
    }
  }
  return into;
}

/** Reads the query plan of a find cursor (with its filter, sort and limit) on either server. */
export async function queryPlan(
  server: ServerInfo,
  cursor: FindCursor<Document>,
  sorted: boolean,
): Promise<QueryPlanFacts> {
  if (server.kind === 'ferretdb') {
    const e = (await cursor.explain()) as FerretExplain;
    const plan = e.queryPlanner?.Plan ?? [];
    const indexes = plan.flatMap((line) => {
      const m = /USING (?:COVERING )?INDEX (\S+)/.exec(line);
      return m?.[1] ? [m[1]] : [];
    });
    return {
      indexes,
      scans: e.filterPushdown !== true || plan.some((line) => /detail=SCAN /.test(line)),
      sortsInMemory: sorted && (e.sortPushdown !== true || plan.some((line) => /TEMP B-TREE/.test(line))),
      limited: e.limitPushdown === true,
      raw: JSON.stringify({
        plan,
        sql: e.queryPlanner?.SQL,
        filterPushdown: e.filterPushdown,
        sortPushdown: e.sortPushdown,
        limitPushdown: e.limitPushdown,
      }),
    };
  }
  const e = (await cursor.explain('queryPlanner')) as { queryPlanner?: { winningPlan?: unknown } };
  const stages = mongoStages(e.queryPlanner?.winningPlan);
  return {
    indexes: stages.flatMap((s) =>
      s.indexName ? [s.indexName] : /IDHACK|EXPRESS_IXSCAN|EXPRESS_CLUSTERED/.test(s.stage) ? ['_id_'] : [],
    ),
    scans: stages.some((s) => s.stage === 'COLLSCAN'),
    sortsInMemory: stages.some((s) => s.stage === 'SORT'),
    limited: stages.some((s) => s.stage === 'LIMIT'),
    raw: JSON.stringify(e.queryPlanner?.winningPlan),
  };
}

/** Whether one of the index names used is `name` (FerretDB's SQLite index is named `<table>_<name>`). */
export function usesIndex(server: ServerInfo, facts: QueryPlanFacts, names: string[]): boolean {
  return facts.indexes.some((used) =>
    names.some((name) => (server.kind === 'ferretdb' ? used.endsWith(`_${name}`) : used === name)),
  );
}
