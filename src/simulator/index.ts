/** The simulator subsystem's public surface: named re-exports only. */
export { Simulator } from "./simulator.js";
export type { CreateRoomOptions, SimulatorListenOptions, SimulatorOptions } from "./simulator.js";
export { createSimulatorServer, Endpoint, MAX_BODY_BYTES } from "./server.js";
export type { SimulatorServer, SimulatorServerOptions } from "./server.js";
export { FaultInjector, MalformedKind } from "./faults.js";
export type { FaultOptions, RateLimitFault } from "./faults.js";
export { createSimulatedTime } from "./simulated-time.js";
export type { Clock, SimulatedTime } from "./simulated-time.js";
export { BIND_DEADLINE_MS, Scenario, World } from "./world.js";
export type { RoomTruth, TransitionHook, TruthEntry, TruthStatus, WorldOptions } from "./world.js";
export { createRandom } from "./random.js";
export type { Random } from "./random.js";
