import type { MessageType } from './message-types';

/**
 * The declaration status state machine.
 *
 *   accepted → signed → queued → delivered → 2 → 3 → 120 → 300/500/501–503/505/599/600 → 399 → 800 → 899
 *
 * The summary application (CEB701) goes on after 399: its result, CEB792, moves it to `summarized`.
 * Gateway-side states (accepted … delivered) are ours; numeric states are customs `returnStatus` codes
 * from the receipts (domain notes §3). Status only moves forward: every status has a rank and a change is
 * applied only when its rank is higher than the current one, in one conditional single-document update.
 * So a duplicate receipt (same rank) and a late or out-of-order one (lower rank) are no-ops, whatever order
 * they arrive in. Terminal states never change again.
 */
export type GatewayStatus = 'accepted' | 'signed' | 'queued' | 'delivered' | 'failed';
export type DeclarationStatus = GatewayStatus | string; // customs codes are strings: "2", "120", "-621005"

const RANKS: Record<string, number> = {
  accepted: 0,
  signed: 10,
  queued: 20,
  delivered: 30,
  '1': 35, // 暂存 (stored, not yet sent)
  '2': 40, // 电子口岸申报中
  '3': 50, // 发送海关成功
  '4': 55, // 发送海关失败 — customs side retries; later codes supersede it
  '120': 60, // 海关入库
  '300': 70, // 人工审核
  '500': 72, // 查验
  '501': 74, // 扣留移送通关
  '502': 74, // 扣留移送缉私
  '503': 74, // 扣留移送法规
  '505': 74, // 移交 (CEB214, export return)
  '599': 74, // 其它扣留
  '600': 74, // 挂起 (CEB214, export return)
  '399': 80, // 海关审结
  '800': 90, // 放行
  '899': 100, // 结关
  '700': 100, // 退运
  '100': 100, // 海关退单
  summarized: 100, // CEB792 汇总结果单 received: the summary (CEB701) became a customs declaration
  failed: 100, // given up by the dispatcher after N attempts
};

const TERMINAL_RANK = 100;

/** Whether `status` is a status this state machine knows (gateway state, known code, or a negative error). */
export function isKnownStatus(status: string): boolean {
  return status in RANKS || isNegativeCode(status);
}

export function isNegativeCode(status: string): boolean {
  return /^-\d+$/.test(status);
}

export function statusRank(status: string): number {
  if (isNegativeCode(status)) return TERMINAL_RANK;
  const rank = RANKS[status];
  if (rank === undefined) throw new Error(`unknown declaration status "${status}"`);
  return rank;
}

/**
 * Per message type, the customs statuses at which its flow ends besides the terminal rank every type has
 * (899/700/100, `summarized`, negative codes, `failed`). The documents customs only files — order, payment,
 * waybill and their export and transport companions — end at 120 (入库) or 399 (审结), whichever their
 * receipt sends last (the specification lists 120 for some, the schema 399); the export return (CEB213,
 * receipt CEB214) ends at 800 (放行). Inventories, cancels and refunds of import go on to 800/899, and the
 * summary application (CEB701) to its CEB792 result (`summarized`).
 */
const FINAL_STATUSES: Partial<Record<MessageType, readonly string[]>> = {
  CEB311: ['120', '399'],
  CEB411: ['120', '399'],
  CEB511: ['120', '399'],
  CEB513: ['120', '399'],
  CEB711: ['120', '399'],
  CEB303: ['120', '399'],
  CEB403: ['120', '399'],
  CEB505: ['120', '399'],
  CEB507: ['120', '399'],
  CEB509: ['120', '399'],
  CEB605: ['120', '399'],
  CEB607: ['120', '399'],
  CEB215: ['120', '399'],
  CEB213: ['800'],
};

/** Terminal: nothing can follow (see FINAL_STATUSES for the per-type ends). */
export function isTerminal(status: string, messageType?: MessageType): boolean {
  if (statusRank(status) >= TERMINAL_RANK) return true;
  return messageType !== undefined && (FINAL_STATUSES[messageType]?.includes(status) ?? false);
}

/** The ranks at which a declaration of this type can end (each rank is reached at most once). */
export function terminalRanks(messageType: MessageType): number[] {
  const ranks = (FINAL_STATUSES[messageType] ?? []).map((s) => RANKS[s]!).sort((a, b) => b - a);
  return [TERMINAL_RANK, ...new Set(ranks)];
}

/** A final status that means the goods (or document) cleared, as opposed to a rejection or error. */
export function isSuccessfulOutcome(status: string, messageType?: MessageType): boolean {
  if (status === '899' || status === '800' || status === 'summarized') return true;
  return messageType !== undefined && (FINAL_STATUSES[messageType]?.includes(status) ?? false);
}

export type TransitionDecision =
  | { apply: true; rank: number; terminal: boolean }
  | { apply: false; reason: 'duplicate' | 'out-of-order' | 'after-terminal' | 'unknown-status' };

/** Decides whether moving from `current` to `next` is a step forward. Pure: the store applies it atomically. */
export function decideTransition(current: string, next: string, messageType?: MessageType): TransitionDecision {
  if (!isKnownStatus(next)) return { apply: false, reason: 'unknown-status' };
  if (isTerminal(current, messageType))
    return { apply: false, reason: current === next ? 'duplicate' : 'after-terminal' };
  const from = statusRank(current);
  const to = statusRank(next);
  if (to === from) return { apply: false, reason: current === next ? 'duplicate' : 'out-of-order' };
  if (to < from) return { apply: false, reason: 'out-of-order' };
  return { apply: true, rank: to, terminal: isTerminal(next, messageType) };
}

/** Human labels for brokers (Chinese as customs writes them, English for everyone else). */
export const STATUS_LABELS: Record<string, { zh: string; en: string }> = {
  accepted: { zh: '已受理', en: 'accepted' },
  signed: { zh: '已签名', en: 'signed' },
  queued: { zh: '已入队', en: 'queued for the clearance center' },
  delivered: { zh: '已送达', en: 'delivered to the clearance center' },
  failed: { zh: '发送失败', en: 'dispatch failed permanently' },
  '1': { zh: '暂存', en: 'stored' },
  '2': { zh: '电子口岸申报中', en: 'declaring at the E-port' },
  '3': { zh: '发送海关成功', en: 'sent to customs' },
  '4': { zh: '发送海关失败', en: 'sending to customs failed' },
  '100': { zh: '海关退单', en: 'rejected by customs' },
  '120': { zh: '海关入库', en: 'accepted into the customs system' },
  '300': { zh: '人工审核', en: 'manual review' },
  '399': { zh: '海关审结', en: 'examination concluded' },
  '500': { zh: '查验', en: 'physical inspection' },
  '501': { zh: '扣留移送通关', en: 'held: transferred to clearance' },
  '502': { zh: '扣留移送缉私', en: 'held: transferred to anti-smuggling' },
  '503': { zh: '扣留移送法规', en: 'held: transferred to legal' },
  '505': { zh: '移交', en: 'handed over' },
  '599': { zh: '其它扣留', en: 'held (other)' },
  '600': { zh: '挂起', en: 'suspended' },
  '700': { zh: '退运', en: 'returned' },
  '800': { zh: '放行', en: 'released' },
  '899': { zh: '结关', en: 'cleared' },
  summarized: { zh: '汇总完成（已生成报关单）', en: 'summary result received (customs declaration generated)' },
};

export function statusLabel(status: string): { zh: string; en: string } {
  return (
    STATUS_LABELS[status] ??
    (isNegativeCode(status) ? { zh: '业务错误', en: `customs error ${status}` } : { zh: status, en: status })
  );
}
