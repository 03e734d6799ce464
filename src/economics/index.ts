export { type CatalogEntry, loadCatalog, lookupCatalog, type PriceEntry, type ResolvedPrice, resolvePrice } from "./catalog.js";
export { type LitellmImport, parseLitellmPrices } from "./litellm.js";
export { costPusd, picoPerToken, sumPusdToUsd, type TokenPrice } from "./money.js";
