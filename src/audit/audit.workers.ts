// The audit log's background work: sealing entries into the chain, signing checkpoints,
// removing entries past retention.
import type { Worker } from '../platform/worker.js';
import { auditChainWorker } from './audit.chain.js';
import { auditCheckpointWorker } from './audit.checkpoint.js';
import { auditRetentionWorker } from './audit.retention.js';

export const auditWorkers: Worker[] = [auditChainWorker, auditCheckpointWorker, auditRetentionWorker];
