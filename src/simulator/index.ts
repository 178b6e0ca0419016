/**
 * `room-watcher/simulator` (Node only): a Hathora-compatible rooms API on loopback with seeded
 * lifecycles, fault injection and ground truth, so everything runs, demos and tests with no account.
 */
export { Simulator, type CreateRoomOptions, type SimulatorListenOptions, type SimulatorOptions } from "./simulator.js";
export { Endpoint } from "./server.js";
export type { FaultOptions, RateLimitFault } from "./faults.js";
export type { HintCounts, HintTarget } from "./hints.js";
export { Scenario, type RoomTruth, type TransitionHook, type TruthEntry, type TruthStatus } from "./world.js";
export {
  AgonesSimulator,
  type AgonesSimulatorOptions,
  type CreateGameServerOptions,
} from "./agones/simulator.js";
export type { AgonesFaultOptions, WatchFaultOptions } from "./agones/faults.js";
export type { Verb as AgonesVerb, Operation as AgonesOperation } from "./agones/router.js";
export type { GameServer, GameServerPort, GameServerState, NodeAddress, PortPolicy, PortProtocol } from "./agones/game-server.js";
export { AgonesScenario, type GameServerTruth, type TruthEntry as GameServerTruthEntry, type AgonesTransitionHook } from "./agones/world.js";
export {
  EdgegapEndpoint,
  EdgegapSimulator,
  type EdgegapSimulatorOptions,
} from "./edgegap/simulator.js";
export { EdgegapScenario, type EdgegapDeploymentTruth, type EdgegapPortSpec, type EdgegapTruthEntry, type StopOutcome as EdgegapStopOutcome } from "./edgegap/world.js";
export type { WebhookCounts, WebhookFaults } from "./edgegap/webhook-caller.js";
