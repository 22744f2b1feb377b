/**
 * Analysis helpers for lesson 06 (rank of attention matrices, Johnson–Lindenstrauss, Linformer):
 * a Float64 SVD, low-rank errors and spectra, random projections and their distortion, JL dimensions.
 * @module
 */
export { type Float64Matrix, type MatrixLike, toMatrix, toRows } from "./matrix.ts";
export { singularValues, svd, type SvdOptions, type SvdResult } from "./svd.ts";
export {
  cumulativeSpectrum,
  effectiveRank,
  type LowRankError,
  lowRankError,
  type MassOptions,
  rankForMass,
  type Spectrum,
} from "./low_rank.ts";
export {
  type Distortion,
  gaussianProjection,
  pairwiseDistortion,
  sparseProjection,
  type SparseProjectionOptions,
} from "./projection.ts";
export { jlMinDim, linformerMinDim } from "./jl.ts";
