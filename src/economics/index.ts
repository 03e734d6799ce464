export { type CatalogEntry, loadCatalog, lookupCatalog, type ResolvedPrice, resolvePrice } from "./catalog.js";
export { costPusd, picoPerToken, sumPusdToUsd, type TokenPrice } from "./money.js";
