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
import { loadConfig } from '../../config';
import { buildMessage, MessageBuildError, type BuildContext } from '../../mapping/message-builder';
import { declaringParty } from '../../mapping/message-sender';
import { isMessageType, MESSAGE_TYPES, type MessageType } from '../../domain/message-types';
import { loadSourceMappings, mapSourceRecord, paramsFromConfig, SourceMappingError } from '../../mapping/source-mapper';

/**
 * `baygate map --type <CEB…> [--source <format>] <order.json>`: prints the unsigned, canonical XML of one
 * declaration on stdout (exit 0). A bad order prints every problem on stderr and no XML (exit 1).
 * The annual-limit rule needs the store and is not checked here.
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
}

const SOURCE_MAPPINGS_DIR = fileURLToPath(new URL('../../../mappings/sources/', import.meta.url));

/** Placeholder DXP user number for previews; real senders are configured per customs centre. */
const PREVIEW_DXP_ID = 'DXPENT0000000000';

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 1);
  }
  try {
    return JSON.parse(stripBom(text)); // Windows exports often start with a byte-order mark
  } catch (err) {
    throw new CliError(`${path}: not valid JSON (${(err as Error).message})`, 1);
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

function requestContext(type: MessageType, opts: MapOptions): Partial<BuildContext> {
  if (type !== 'CEB623' && type !== 'CEB625') return {};
  const input = { invtNo: opts.invtNo, reason: opts.reason, items: parseRefundLines(opts.refundLines) };
  if (type === 'CEB623') {
    const parsed = inventoryCancelRequestSchema.safeParse({ invtNo: input.invtNo, reason: input.reason });
    if (!parsed.success)
      throw new CliError(
        `CEB623 needs --invt-no and --reason:\n${toOrderIssues(parsed.error)
          .map((i) => `  --${i.path === 'invtNo' ? 'invt-no' : i.path}: ${i.message}`)
          .join('\n')}`,
        2,
      );
    return { cancel: parsed.data };
  }
  const parsed = inventoryRefundRequestSchema.safeParse(input);
  if (!parsed.success)
    throw new CliError(
      `CEB625 needs --invt-no and --reason:\n${toOrderIssues(parsed.error)
        .map((i) => `  ${i.path}: ${i.message}`)
        .join('\n')}`,
      2,
    );
  return { refund: parsed.data };
}

export function register(program: Command): void {
  program
    .command('map')
    .description('print the unsigned customs XML built from one order (no signing, nothing sent)')
    .argument('<order>', 'order file (Baygate JSON, or a source format with --source)')
    .requiredOption('--type <type>', `message type: ${MESSAGE_TYPES.join('|')}`)
    .option('--source <format>', 'read the file in this source format (mappings/sources/<format>.json)')
    .option('--cop-code <code>', 'BaseTransfer copCode (default: the company that declares this type)')
    .option('--cop-name <name>', "BaseTransfer copName (default: that company's name)")
    .option('--dxp-id <id>', 'BaseTransfer dxpId, the DXP user number', PREVIEW_DXP_ID)
    .option('--guid <guid>', 'message guid (default: a fresh one)')
    .option('--now <time>', 'time for appTime when the order has none, ISO 8601 (default: now)')
    .option('--invt-no <invtNo>', 'CEB623/625: inventory number customs assigned')
    .option('--reason <text>', 'CEB623/625: reason for the cancel or return')
    .option('--refund-lines <list>', 'CEB625: returned lines as gnum:qty[,gnum:qty…] (default: everything)')
    .action((orderPath: string, opts: MapOptions) => {
      const type = opts.type.toUpperCase();
      if (!isMessageType(type))
        throw new CliError(`--type must be one of ${MESSAGE_TYPES.join(', ')}, got "${opts.type}"`, 2);
      const now = opts.now === undefined ? undefined : new Date(opts.now);
      if (now && Number.isNaN(now.getTime())) throw new CliError(`--now: not a date: ${opts.now}`, 2);

      let input = readJson(orderPath);
      if (opts.source) input = fromSource(opts.source, input, orderPath);

      const parsed = parseBaygateOrder(input);
      if (!parsed.ok) {
        throw new CliError(
          `${orderPath}: not a valid Baygate order (${parsed.issues.length} problem${parsed.issues.length === 1 ? '' : 's'}):\n` +
            parsed.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'),
          1,
        );
      }
      const order: BaygateOrder = parsed.order;
      const violations = validateOrderStatic(order);
      if (violations.length > 0) {
        throw new CliError(
          `${orderPath}: the order breaks ${violations.length} rule${violations.length === 1 ? '' : 's'}:\n` +
            violations.map((v) => `  ${v.path}: ${v.code} ${v.message.en} / ${v.message.zh}`).join('\n'),
          1,
        );
      }

      const party = declaringParty(type, order);
      const ctx: BuildContext = {
        sender: { copCode: opts.copCode ?? party.copCode, copName: opts.copName ?? party.copName, dxpId: opts.dxpId },
        ...(opts.guid ? { guid: opts.guid } : {}),
        ...(now ? { now } : {}),
        ...requestContext(type, opts),
      };
      try {
        process.stdout.write(buildMessage(type, order, ctx).xml + '\n');
      } catch (err) {
        if (err instanceof MessageBuildError) {
          throw new CliError(`${orderPath}: ${err.message}`, 1);
        }
        throw err;
      }
    });
}
