/**
 * Analysis helpers for lessons 05 and 06 (rank of attention matrices, Kronecker rank of multi-head layers,
 * Johnson–Lindenstrauss, Linformer): a Float64 SVD, low-rank errors, spectra and numerical ranks, the
 * Van Loan–Pitsianis rearrangement, random projections and their distortion, JL dimensions.
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
  numericalRank,
  rankForMass,
  type RankOptions,
  type Spectrum,
} from "./low_rank.ts";
export { kroneckerRank, type KroneckerRankOptions, kroneckerRearrange } from "./kronecker.ts";
export {
  type Distortion,
  gaussianProjection,
  pairwiseDistortion,
  sparseProjection,
  type SparseProjectionOptions,
} from "./projection.ts";
export { jlMinDim, linformerMinDim } from "./jl.ts";
