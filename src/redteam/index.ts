export { MUTATORS, type MutatorName, mutate, rot13 } from "./mutators.js";
export { listPacks, loadPack, loadPackSuites, PACKS_DIR, type Pack, packToSuite } from "./packs.js";
export * from "./session.js";
export { type RedteamModel, type RedteamOptions, type RedteamResult, redteamView, runRedteam } from "./session.js";
