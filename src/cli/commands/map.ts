import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { stripBom } from '../../xml/bom';
import {
  inventoryCancelRequestSchema,
  inventoryRefundRequestSchema,
  parseBaygateOrder,
  toOrderIssues,
  type BaygateOrder,
} from '../../domain/order';
import { validateOrderStatic } from '../../domain/rules/index';
import { exportReturnRequestSchema, logisticsStatusRequestSchema } from '../../domain/requests';
import { parseShipment, parseSummaryApplication } from '../../domain/shipment';
import { loadConfig } from '../../config';
import { buildFromInput, MessageBuildError, type BuildContext, type MessageInput } from '../../mapping/message-builder';
import { declaringParty } from '../../mapping/message-sender';
import { isMessageType, MESSAGE_INPUT, MESSAGE_TYPES, type MessageType } from '../../domain/message-types';
import { loadSourceMappings, mapSourceRecord, paramsFromConfig, SourceMappingError } from '../../mapping/source-mapper';

/**
 * `baygate map --type <CEB…> [--source <format>] <input.json>`: prints the unsigned, canonical XML of one
 * declaration on stdout (exit 0). The input is what the type is built from: an order (Baygate JSON, or a
 * source format with --source) for the order messages, a shipment for CEB507/509/607/711, a summary
 * application for CEB701. A bad input prints every problem on stderr and no XML (exit 1). Requests come
 * from options: --invt-no/--reason (CEB623/605), --refund-lines (CEB625), --logistics-time (CEB513),
 * --return <file> (CEB213/215). The annual-limit rule needs the store and is not checked here.
 */

interface MapOptions {
  type: string;
  source?: string;
  copCode?: string;
  copName?: string;
  dxpId: string;
  guid?: string;
  now?: string;
  invtNo?: string;
  reason?: string;
  refundLines?: string;
  logisticsTime?: string;
  return?: string;
}

const SOURCE_MAPPINGS_DIR = fileURLToPath(new URL('../../../mappings/sources/', import.meta.url));

/** Placeholder DXP user number for previews; real senders are configured per customs centre. */
const PREVIEW_DXP_ID = 'DXPENT0000000000';

function readJson(path: string, what = path): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 1);
  }
  try {
    return JSON.parse(stripBom(text)); // Windows exports often start with a byte-order mark
  } catch (err) {
    throw new CliError(`${what}: not valid JSON (${(err as Error).message})`, 1);
  }
}

/** Converts a source-format document with the source mapper (mappings/sources/<format>.json). */
function fromSource(format: string, input: unknown, path: string): unknown {
  let mappings;
  try {
    mappings = loadSourceMappings(SOURCE_MAPPINGS_DIR);
  } catch (err) {
    if (err instanceof SourceMappingError) throw new CliError(err.message, 1);
    throw err;
  }
  const mapping = mappings.get(format);
  if (!mapping)
    throw new CliError(`--source: unknown format "${format}" (known: ${[...mappings.keys()].sort().join(', ')})`, 2);
  const result = mapSourceRecord(mapping, input, { params: paramsFromConfig(loadConfig()) });
  if (!result.ok) {
    throw new CliError(
      `${path}: does not map to a Baygate order with --source ${format} (${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}):\n` +
        result.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'),
      1,
    );
  }
  return result.order;
}

function parseRefundLines(spec: string | undefined): Array<{ gnum: number; qty: number }> | undefined {
  if (spec === undefined) return undefined;
  return spec.split(',').map((part) => {
    const m = /^\s*(\d+):(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m) throw new CliError(`--refund-lines: expected gnum:qty[,gnum:qty…], got "${part}"`, 2);
    return { gnum: Number(m[1]), qty: Number(m[2]) };
  });
}

function issuesText(issues: { path: string; message: string }[], flag?: (path: string) => string): string {
  return issues.map((i) => `  ${flag ? flag(i.path) : i.path}: ${i.message}`).join('\n');
}

function requestContext(type: MessageType, opts: MapOptions): Partial<BuildContext> {
  if (type === 'CEB513') {
    const parsed = logisticsStatusRequestSchema.safeParse({ logisticsTime: opts.logisticsTime });
    if (!parsed.success)
      throw new CliError(
        `CEB513 needs --logistics-time (when the parcel was signed for):\n${issuesText(toOrderIssues(parsed.error), () => '--logistics-time')}`,
        2,
      );
    return { logisticsStatus: parsed.data };
  }
  if (type === 'CEB213' || type === 'CEB215') {
    if (opts.return === undefined) throw new CliError(`${type} needs --return <file> (an export return request)`, 2);
    const parsed = exportReturnRequestSchema.safeParse(readJson(opts.return, `--return ${opts.return}`));
    if (!parsed.success)
      throw new CliError(
        `--return ${opts.return}: not a valid export return request:\n${issuesText(toOrderIssues(parsed.error))}`,
        1,
      );
    return { exportReturn: parsed.data };
  }
  if (type !== 'CEB623' && type !== 'CEB605' && type !== 'CEB625') return {};
  const input = { invtNo: opts.invtNo, reason: opts.reason, items: parseRefundLines(opts.refundLines) };
  if (type !== 'CEB625') {
    const parsed = inventoryCancelRequestSchema.safeParse({ invtNo: input.invtNo, reason: input.reason });
    if (!parsed.success)
      throw new CliError(
        `${type} needs --invt-no and --reason:\n${issuesText(toOrderIssues(parsed.error), (p) => `--${p === 'invtNo' ? 'invt-no' : p}`)}`,
        2,
      );
    return { cancel: parsed.data };
  }
  const parsed = inventoryRefundRequestSchema.safeParse(input);
  if (!parsed.success)
    throw new CliError(`CEB625 needs --invt-no and --reason:\n${issuesText(toOrderIssues(parsed.error))}`, 2);
  return { refund: parsed.data };
}

/** Reads the input the type is built from; every problem of a bad input is listed (exit 1). */
function readInput(type: MessageType, path: string, opts: MapOptions): MessageInput {
  const kind = MESSAGE_INPUT[type];
  let input = readJson(path);
  if (kind !== 'order') {
    if (opts.source) throw new CliError(`--source reads orders; ${type} is built from a ${kind}`, 2);
    const refuse = (issues: { path: string; message: string }[]): never => {
      throw new CliError(
        `${path}: not a valid ${kind === 'shipment' ? 'shipment' : 'summary application'} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issuesText(issues)}`,
        1,
      );
    };
    if (kind === 'shipment') {
      const parsed = parseShipment(input);
      return parsed.ok ? { kind, shipment: parsed.value } : refuse(parsed.issues);
    }
    const parsed = parseSummaryApplication(input);
    return parsed.ok ? { kind, summary: parsed.value } : refuse(parsed.issues);
  }
  if (opts.source) input = fromSource(opts.source, input, path);
  const parsed = parseBaygateOrder(input);
  if (!parsed.ok) {
    throw new CliError(
      `${path}: not a valid Baygate order (${parsed.issues.length} problem${parsed.issues.length === 1 ? '' : 's'}):\n` +
        issuesText(parsed.issues),
      1,
    );
  }
  const order: BaygateOrder = parsed.order;
  const violations = validateOrderStatic(order);
  if (violations.length > 0) {
    throw new CliError(
      `${path}: the order breaks ${violations.length} rule${violations.length === 1 ? '' : 's'}:\n` +
        violations.map((v) => `  ${v.path}: ${v.code} ${v.message.en} / ${v.message.zh}`).join('\n'),
      1,
    );
  }
  return { kind: 'order', order };
}

export function register(program: Command): void {
  program
    .command('map')
    .description('print the unsigned customs XML built from one order (no signing, nothing sent)')
    .argument(
      '<input>',
      'order file (Baygate JSON, or a source format with --source); a shipment or summary file for the types built from one',
    )
    .requiredOption('--type <type>', `message type: ${MESSAGE_TYPES.join('|')}`)
    .option('--source <format>', 'read the file in this source format (mappings/sources/<format>.json)')
    .option('--cop-code <code>', 'BaseTransfer copCode (default: the company that declares this type)')
    .option('--cop-name <name>', "BaseTransfer copName (default: that company's name)")
    .option('--dxp-id <id>', 'BaseTransfer dxpId, the DXP user number', PREVIEW_DXP_ID)
    .option('--guid <guid>', 'message guid (default: a fresh one)')
    .option('--now <time>', 'time for appTime when the order has none, ISO 8601 (default: now)')
    .option('--invt-no <invtNo>', 'CEB623/605/625: inventory number customs assigned')
    .option('--reason <text>', 'CEB623/605/625: reason for the cancel or return')
    .option('--refund-lines <list>', 'CEB625: returned lines as gnum:qty[,gnum:qty…] (default: everything)')
    .option('--logistics-time <time>', 'CEB513: when the parcel was signed for (YYYYMMDDhhmmss or ISO 8601 with zone)')
    .option('--return <file>', 'CEB213/215: export return request (JSON: invtNo, reason, copNo, inbound transport…)')
    .action((inputPath: string, opts: MapOptions) => {
      const type = opts.type.toUpperCase();
      if (!isMessageType(type))
        throw new CliError(`--type must be one of ${MESSAGE_TYPES.join(', ')}, got "${opts.type}"`, 2);
      const now = opts.now === undefined ? undefined : new Date(opts.now);
      if (now && Number.isNaN(now.getTime())) throw new CliError(`--now: not a date: ${opts.now}`, 2);

      const request = requestContext(type, opts);
      const input = readInput(type, inputPath, opts);
      const party = declaringParty(type, input, request);
      const copCode = opts.copCode ?? party?.copCode;
      const copName = opts.copName ?? party?.copName;
      if (copCode === undefined || copName === undefined)
        throw new CliError(`${type}: the input names no sending company: give --cop-code and --cop-name`, 2);
      const ctx: BuildContext = {
        sender: { copCode, copName, dxpId: opts.dxpId },
        ...(opts.guid ? { guid: opts.guid } : {}),
        ...(now ? { now } : {}),
        ...request,
      };
      try {
        process.stdout.write(buildFromInput(type, input, ctx).xml + '\n');
      } catch (err) {
        if (err instanceof MessageBuildError) {
          throw new CliError(`${inputPath}: ${err.message}`, 1);
        }
        throw err;
      }
    });
}
