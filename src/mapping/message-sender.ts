import type { BaygateOrder } from '../domain/order';
import type { SenderIdentity } from './message-builder';
import type { MessageType } from '../domain/message-types';

/**
 * The company that normally transmits each declaration (BaseTransfer copCode/copName): the
 * e-commerce company for orders, the payment company for payments, the logistics company for waybills,
 * the declaring agent for inventories, cancels and returns. Used where no sender identity is configured
 * (the `map` preview command); production senders come from the E-port registration of the gateway.
 */
export function declaringParty(type: MessageType, order: BaygateOrder): Pick<SenderIdentity, 'copCode' | 'copName'> {
  switch (type) {
    case 'CEB311':
    case 'CEB303':
      return { copCode: order.ebcCode, copName: order.ebcName };
    case 'CEB411':
      return order.direction === 'import'
        ? { copCode: order.payment.payCode, copName: order.payment.payName }
        : { copCode: order.ebcCode, copName: order.ebcName };
    case 'CEB511':
    case 'CEB505':
      return { copCode: order.logistics.logisticsCode, copName: order.logistics.logisticsName };
    case 'CEB621':
    case 'CEB623':
    case 'CEB625':
    case 'CEB603':
      return { copCode: order.agentCode, copName: order.agentName };
  }
}
