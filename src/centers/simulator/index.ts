/** Clearance-center simulator: `startSimulator(options)` (see simulator.ts for what a center does). */
export {
  startSimulator,
  startSimulators,
  type SimulatorFleet,
  MemoryManifestDedup,
  type Simulator,
  type SimulatorOptions,
  type SimulatorStats,
  type SimulatedCenter,
} from './simulator';
export type { ManifestDedup } from '../../store/simulator-state';
export {
  loadSimulatorProfile,
  parseFaults,
  FAULT_NAMES,
  type SimulatorProfile,
  type FaultName,
  type FaultRates,
} from './profiles';
export { buildReceipt, RECEIPT_FOR, returnTimeOf, type BuiltReceipt, type ReceiptReturnInput } from './receipt-builder';
export { readManifest, type ManifestView } from './manifest';
