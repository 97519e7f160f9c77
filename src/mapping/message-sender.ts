import type { BuildContext, MessageInput, SenderIdentity } from './message-builder';
import type { MessageType } from '../domain/message-types';

type Party = Pick<SenderIdentity, 'copCode' | 'copName'>;

/**
 * The company that normally transmits each declaration (BaseTransfer copCode/copName), as the specification
 * names the sender of each message: the e-commerce company for orders and export returns, the payment
 * company for payments and receipts of payment, the logistics company for waybills, their status and the
 * arrival and departure of a consolidation, the declaring agent for inventories, cancels, refunds,
 * consolidations and summaries, the supervised site's operator for warehouse entries and return tallies.
 * Used where no sender identity is configured (the `map` preview command); production senders come from
 * the E-port registration of the gateway. Undefined when the input does not name that company.
 */
export function declaringParty(
  type: MessageType,
  input: MessageInput,
  ctx: Pick<BuildContext, 'exportReturn'> = {},
): Party | undefined {
  if (input.kind === 'shipment') {
    const s = input.shipment;
    const party =
      type === 'CEB711'
        ? s.operator
        : type === 'CEB607'
          ? s.agent
          : type === 'CEB507' || type === 'CEB509'
            ? s.logistics
            : undefined;
    return party ? { copCode: party.code, copName: party.name } : undefined;
  }
  if (input.kind === 'summary') return { copCode: input.summary.agent.code, copName: input.summary.agent.name };
  const order = input.order;
  switch (type) {
    case 'CEB311':
    case 'CEB303':
    case 'CEB213':
      return { copCode: order.ebcCode, copName: order.ebcName };
    case 'CEB411':
    case 'CEB403': {
      const payment = order.payment;
      if (!payment) return undefined;
      return payment.payCode ? { copCode: payment.payCode, copName: payment.payName } : undefined;
    }
    case 'CEB511':
    case 'CEB513':
    case 'CEB505':
      return { copCode: order.logistics.logisticsCode, copName: order.logistics.logisticsName };
    case 'CEB215': {
      const operator = ctx.exportReturn?.operator;
      return operator ? { copCode: operator.code, copName: operator.name } : undefined;
    }
    default:
      return { copCode: order.agentCode, copName: order.agentName };
  }
}
