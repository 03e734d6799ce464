export { bootstrapMeanCi, DEFAULT_RESAMPLES, DEFAULT_SEED } from "./bootstrap.js";
export {
  comparePaired,
  describeComparison,
  estimateMean,
  formatPValue,
  type MeanEstimate,
  type PairedComparison,
} from "./compare.js";
export { mcnemarExact, mcnemarExactFromCounts } from "./mcnemar.js";
export { pairedBootstrap } from "./paired-bootstrap.js";
export { pairedPermutationTest } from "./permutation.js";
export { isBinary, mean, quantile, quantileSorted } from "./quantile.js";
export { seededRng } from "./rng.js";
export { wilsonInterval, Z95 } from "./wilson.js";
