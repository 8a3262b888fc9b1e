// PLACEHOLDER until the hosted-pages work lands the full sandbox (test cards, 3-D Secure):
// authorises nothing yet; capture, cancel and refund always succeed, as GOV.UK Pay's sandbox does.
import { randomBase62 } from '../../platform/random.js';
import type { CardProcessor } from '../connector.js';

export class SandboxProcessor implements CardProcessor {
  readonly name = 'sandbox';
  async authorise(): ReturnType<CardProcessor['authorise']> {
    return { outcome: 'error', reason: 'Unsupported card details.', card: undefined };
  }
  async completeThreeDs(): ReturnType<CardProcessor['completeThreeDs']> {
    return { outcome: 'error', reason: 'no challenge' };
  }
  async capture(): ReturnType<CardProcessor['capture']> {
    return { outcome: 'ok', processorReference: `sbx_${randomBase62(16)}` };
  }
  async cancel(): ReturnType<CardProcessor['cancel']> {
    return { outcome: 'ok', processorReference: `sbx_${randomBase62(16)}` };
  }
  async refund(): ReturnType<CardProcessor['refund']> {
    return { outcome: 'ok', processorReference: `sbx_${randomBase62(16)}` };
  }
}
