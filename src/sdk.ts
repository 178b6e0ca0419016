/**
 * `room-watcher/sdk`: sources built on the official SDK. A separate entry so that `room-watcher`
 * itself never loads `@hathora/cloud-sdk-typescript`, an optional peer dependency.
 */
export { HathoraSdkSource, type HathoraSdkSourceOptions } from "./providers/hathora/sdk-source.js";
