export { type BcaFit, bcaCi, bcaFit, bcaInterval, bcaLowerPValue, diffOfMeans, meanOfC, ratioOfMeans, type Unit } from "./bca.js";
export { bootstrapMeanCi, DEFAULT_RESAMPLES, DEFAULT_SEED } from "./bootstrap.js";
export {
  type CompareOptions,
  comparePaired,
  comparePairedByKey,
  estimateMean,
  type MeanEstimate,
  type PairedComparison,
  type PairedMethod,
  toUnits,
} from "./compare.js";
export { type DecisionStatus, decisionStatus, moreCasesPhrase, PLANNING_POWER } from "./decide.js";
export { describeComparison, formatPValue } from "./describe.js";
export { holmAdjust } from "./holm.js";
export { mcnemarExact, mcnemarExactFromCounts } from "./mcnemar.js";
export { normCdf, normQuantile } from "./normal.js";
export { moverRatioCi, newcombeDiffCi, nonInferiorityPValue, type PairedTable, pairedTable } from "./paired-binary.js";
export { pairedBootstrap } from "./paired-bootstrap.js";
export { pairedPermutationTest } from "./permutation.js";
export { isBinary, mean, quantile, quantileSorted } from "./quantile.js";
export { type Rng, seededRng } from "./rng.js";
export { casesToDecide, MAX_PLANNED_CASES, type SampleSize, type SampleSizeInput, simulatedPower } from "./sample-size.js";
export { wilsonInterval, Z95 } from "./wilson.js";
