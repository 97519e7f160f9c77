import type { MessageType } from './message-types';

/**
 * The declaration status state machine.
 *
 *   accepted → signed → queued → delivered → 2 → 3 → 120 → 300/500/501–503/599 → 399 → 800 → 899
 *
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
  '599': 74, // 其它扣留
  '399': 80, // 海关审结
  '800': 90, // 放行
  '899': 100, // 结关
  '700': 100, // 退运
  '100': 100, // 海关退单
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
 * Terminal: nothing can follow. 899/700/100, negative codes and `failed` for every message type; for the
 * documents that customs only files (order, payment, waybill: CEB311/411/511 and export CEB303/505) the
 * customs flow ends at 120 (入库) or 399 (审结), so those are final for them too.
 */
export function isTerminal(status: string, messageType?: MessageType): boolean {
  if (statusRank(status) >= TERMINAL_RANK) return true;
  if (messageType && FILED_ONLY.has(messageType)) return status === '120' || status === '399';
  return false;
}

const FILED_ONLY = new Set<MessageType>(['CEB311', 'CEB411', 'CEB511', 'CEB303', 'CEB505']);

/** The ranks at which a declaration of this type can end (each rank is reached at most once). */
export function terminalRanks(messageType: MessageType): number[] {
  return FILED_ONLY.has(messageType) ? [TERMINAL_RANK, RANKS['399']!, RANKS['120']!] : [TERMINAL_RANK];
}

/** A final status that means the goods (or document) cleared, as opposed to a rejection or error. */
export function isSuccessfulOutcome(status: string, messageType?: MessageType): boolean {
  if (status === '899' || status === '800') return true;
  if (messageType && FILED_ONLY.has(messageType)) return status === '120' || status === '399';
  return false;
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
  '599': { zh: '其它扣留', en: 'held (other)' },
  '700': { zh: '退运', en: 'returned' },
  '800': { zh: '放行', en: 'released' },
  '899': { zh: '结关', en: 'cleared' },
};

export function statusLabel(status: string): { zh: string; en: string } {
  return (
    STATUS_LABELS[status] ??
    (isNegativeCode(status) ? { zh: '业务错误', en: `customs error ${status}` } : { zh: status, en: status })
  );
}
