import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { GatewayClient, GatewayError, toCliError, withConnectionOptions, type ConnectionOptions } from '../http-client';

/**
 * `baygate status <id|orderNo>`: a declaration id shows its timeline (every step, with the receipt and
 * its signer); an order number shows the table of its declarations with status and labels.
 */
interface Summary {
  id: string;
  orderNo: string;
  sellerId: string;
  messageType: string;
  center: string;
  status: string;
  label: { zh: string; en: string };
  terminal: boolean;
  buyerIdMasked?: string;
  lastError?: string;
  updatedAt: string;
}

interface Step {
  eventId: string;
  status: string;
  label: { zh: string; en: string };
  at: string;
  source: string;
  info?: string;
  receipt?: { id: string; type: string; signer?: { subject: string; serialHex: string }; returnInfo?: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Pads to a display width, counting CJK characters as two columns. */
function pad(text: string, width: number): string {
  const w = [...text].reduce(
    (n, ch) =>
      n +
      (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch)
        ? 2
        : 1),
    0,
  );
  return text + ' '.repeat(Math.max(0, width - w));
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.max(
      h.length,
      ...rows.map((r) => [...(r[i] ?? '')].reduce((n, ch) => n + (ch.charCodeAt(0) > 0x2e7f ? 2 : 1), 0)),
    ),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function formatTimeline(d: Summary, steps: Step[]): string {
  const out = [
    `${d.messageType} ${d.orderNo} (${d.id})`,
    `seller ${d.sellerId} · center ${d.center} · status ${d.status} ${d.label.zh} (${d.label.en})${d.terminal ? ' · final' : ''}${d.buyerIdMasked ? ` · buyer ${d.buyerIdMasked}` : ''}`,
    ...(d.lastError ? [`last error: ${d.lastError}`] : []),
    '',
    table(
      ['AT', 'STATUS', 'LABEL', 'SOURCE', 'DETAIL'],
      steps.map((s) => [
        s.at,
        s.status,
        s.label.zh,
        s.source,
        [
          s.info ?? s.receipt?.returnInfo,
          s.receipt
            ? `receipt ${s.receipt.type} ${s.receipt.id}${s.receipt.signer ? ` signed by ${s.receipt.signer.subject} #${s.receipt.signer.serialHex}` : ''}`
            : undefined,
        ]
          .filter(Boolean)
          .join(' — '),
      ]),
    ),
  ];
  return out.join('\n');
}

export function formatDeclarations(items: Summary[]): string {
  return table(
    ['ID', 'TYPE', 'CENTER', 'STATUS', 'LABEL', 'UPDATED'],
    items.map((d) => [
      d.id,
      d.messageType,
      d.center,
      d.status + (d.terminal ? ' ✓' : ''),
      `${d.label.zh} (${d.label.en})`,
      d.updatedAt,
    ]),
  );
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command('status')
      .description("show a declaration's timeline (by id) or an order's declarations (by order number)")
      .argument('<idOrOrderNo>', 'declaration id (UUID) or order number')
      .option('--json', 'print the gateway answer as JSON'),
  ).action(async (ref: string, opts: ConnectionOptions & { json?: boolean }) => {
    if (!/^[\w.:/-]{1,64}$/.test(ref))
      throw new CliError(`"${ref}" is neither a declaration id nor an order number`, 2);
    const client = new GatewayClient(opts);
    try {
      if (UUID.test(ref)) {
        const timeline = await client.getJson<{ declaration: Summary; steps: Step[] }>(
          `/v1/declarations/${encodeURIComponent(ref)}/timeline`,
        );
        process.stdout.write(
          (opts.json ? JSON.stringify(timeline, null, 2) : formatTimeline(timeline.declaration, timeline.steps)) + '\n',
        );
        return;
      }
      const page = await client.getJson<{ items: Summary[]; total: number }>('/v1/declarations', {
        orderNo: ref,
        limit: '200',
      });
      if (page.items.length === 0)
        throw new CliError(`no declaration with order number "${ref}" visible to this key`, 1);
      process.stdout.write((opts.json ? JSON.stringify(page, null, 2) : formatDeclarations(page.items)) + '\n');
    } catch (err) {
      if (err instanceof GatewayError && err.status === 404)
        throw new CliError(`no declaration "${ref}" visible to this key`, 1);
      throw toCliError(err);
    }
  });
}
