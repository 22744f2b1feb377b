/**
 * Hidden cases: graded by `deno task grade`, never shown to students and never shipped in the student bundle
 * (tools/grading/ stays with the instructor). Only their arguments enter the grading sandbox (over stdin,
 * before student code loads); their expected values stay in the grader, which alone judges. The numbers are
 * generated with the visible ones (tools/cases/make_lessonNN.ts → hiddenNN_cases.ts), and each table goes
 * through the same case maker as the visible cases, so the tables are typed against their exercises: a wrong
 * exercise name or argument type is a compile error.
 * @module
 */
import type { Case, Exercise } from "../../lib/check/core.ts";
import {
  attentionCase,
  causalFlopCase,
  denseCase,
  effectiveCase,
  headCase,
  lesson01Exercises,
} from "../../lib/check/lesson01.ts";
import {
  columnScoreCase,
  lesson02Exercises,
  qkvCase,
  rowQueryCase,
  selfAttentionCase,
  strongestKeyCase,
} from "../../lib/check/lesson02.ts";
import { decodeCase, flopCase, lesson03Exercises, maskCase, memoryCase } from "../../lib/check/lesson03.ts";
import {
  entropyCase,
  jacobianCase,
  lesson04Exercises,
  softmaxCase,
  stdCase,
  temperatureCase,
} from "../../lib/check/lesson04.ts";
import { countsCase, kvCase, layerCase, lesson05Exercises, splitCase } from "../../lib/check/lesson05.ts";
import {
  gramCase,
  jlCase,
  lesson06Exercises,
  linformerCase,
  poolingCase,
  projectCase,
  rankCase,
} from "../../lib/check/lesson06.ts";
import * as h01 from "./hidden01_cases.ts";
import * as h02 from "./hidden02_cases.ts";
import * as h03 from "./hidden03_cases.ts";
import {
  causalCase,
  crossoverCase,
  featureCase,
  lesson07Exercises,
  linearCase,
  orthogonalCase,
  stepCase,
} from "../../lib/check/lesson07.ts";
import {
  clusterCase,
  lesson08Exercises,
  linksCase,
  lshCase,
  patternMaskCase,
  reachCase,
  sparseFlopCase,
} from "../../lib/check/lesson08.ts";
import * as h04 from "./hidden04_cases.ts";
import * as h05 from "./hidden05_cases.ts";
import * as h06 from "./hidden06_cases.ts";
import * as h07 from "./hidden07_cases.ts";
import * as h08 from "./hidden08_cases.ts";
import {
  chooseCase,
  dilutionCase,
  lengthCrossoverCase,
  lesson09Exercises,
  listOpsCase,
  reachBoundCase,
} from "../../lib/check/lesson09.ts";
import * as h09 from "./hidden09_cases.ts";

/** Hidden cases of a lesson: for any of its exercises, cases with that exercise's arguments. */
export type HiddenFor<E> = { [K in keyof E]?: E[K] extends Exercise<infer A> ? Case<A>[] : never };

export const hidden01 = {
  denseParamCount: h01.HIDDEN_DENSE_CASES.map(denseCase),
  multiHeadParamCount: h01.HIDDEN_HEAD_CASES.map(headCase),
  causalAttentionFlops: h01.HIDDEN_CAUSAL_FLOP_CASES.map(causalFlopCase),
  effectiveWeights: [effectiveCase(5, 2, "hidden.ew"), effectiveCase(2, 5, "hidden.ew")],
  attentionWeights: h01.HIDDEN_ATTENTION_CASES.map(attentionCase),
} satisfies HiddenFor<typeof lesson01Exercises>;

export const hidden02 = {
  qkvOfToken: h02.HIDDEN_QKV_CASES.map(qkvCase),
  rowQueries: h02.HIDDEN_ROW_QUERY_CASES.map(rowQueryCase),
  columnScores: h02.HIDDEN_COLUMN_SCORE_CASES.map(columnScoreCase),
  selfAttention: h02.HIDDEN_SELF_ATTENTION_CASES.map(selfAttentionCase),
  strongestKeys: h02.HIDDEN_STRONGEST_KEY_CASES.map(strongestKeyCase),
} satisfies HiddenFor<typeof lesson02Exercises>;

export const hidden03 = {
  causalMask: h03.HIDDEN_MASK_CASES.map(maskCase),
  maxContext: h03.HIDDEN_MEMORY_CASES.map(memoryCase),
  decodeStep: h03.HIDDEN_DECODE_CASES.map(decodeCase),
  generationFlops: h03.HIDDEN_FLOP_CASES.map(flopCase),
} satisfies HiddenFor<typeof lesson03Exercises>;

export const hidden04 = {
  dotProductStd: h04.HIDDEN_STD_CASES.map(stdCase),
  softmaxWithTemperature: h04.HIDDEN_SOFTMAX_CASES.map(softmaxCase),
  rowEntropy: h04.HIDDEN_ENTROPY_CASES.map(entropyCase),
  softmaxJacobian: h04.HIDDEN_JACOBIAN_CASES.map(jacobianCase),
  temperatureForMaxWeight: h04.HIDDEN_TEMPERATURE_CASES.map(temperatureCase),
} satisfies HiddenFor<typeof lesson04Exercises>;

export const hidden05 = {
  splitHeads: h05.HIDDEN_SPLIT_CASES.map(splitCase),
  layerCounts: h05.HIDDEN_COUNTS_CASES.map(countsCase),
  multiHeadLayer: h05.HIDDEN_LAYER_CASES.map(layerCase),
  kvCacheBytes: h05.HIDDEN_KV_CASES.map(kvCase),
} satisfies HiddenFor<typeof lesson05Exercises>;

export const hidden06 = {
  scoreAndWeightRanks: h06.HIDDEN_RANK_CASES.map(rankCase),
  spectrumFromGram: h06.HIDDEN_GRAM_CASES.map(gramCase),
  jlDimension: h06.HIDDEN_JL_CASES.map(jlCase),
  jlProject: h06.HIDDEN_PROJECT_CASES.map(projectCase),
  linformer: h06.HIDDEN_LINFORMER_CASES.map(linformerCase),
  poolingProjection: h06.HIDDEN_POOLING_CASES.map(poolingCase),
} satisfies HiddenFor<typeof lesson06Exercises>;

export const hidden07 = {
  reorderCrossover: h07.HIDDEN_CROSSOVER_CASES.map(crossoverCase),
  linearAttention: h07.HIDDEN_LINEAR_CASES.map(linearCase),
  causalLinearAttention: h07.HIDDEN_CAUSAL_CASES.map(causalCase),
  linearAttentionStep: h07.HIDDEN_STEP_CASES.map(stepCase),
  positiveRandomFeatures: h07.HIDDEN_FEATURE_CASES.map(featureCase),
  orthogonalRandomFeatures: h07.HIDDEN_ORTHOGONAL_CASES.map(orthogonalCase),
} satisfies HiddenFor<typeof lesson07Exercises>;

export const hidden08 = {
  patternMask: h08.HIDDEN_MASK_CASES.map(patternMaskCase),
  attentionFlops: h08.HIDDEN_FLOP_CASES.map(sparseFlopCase),
  reachAfter: h08.HIDDEN_REACH_CASES.map(reachCase),
  lshBuckets: h08.HIDDEN_LSH_CASES.map(lshCase),
  causalClusteredAttention: h08.HIDDEN_CLUSTER_CASES.map(clusterCase),
  randomLinks: h08.HIDDEN_LINKS_CASES.map(linksCase),
} satisfies HiddenFor<typeof lesson08Exercises>;

export const hidden09 = {
  chooseKernel: h09.HIDDEN_CHOOSE_CASES.map(chooseCase),
  reachAccuracy: h09.HIDDEN_REACH_CASES.map(reachBoundCase),
  linearEntropy: h09.HIDDEN_ENTROPY_CASES.map(dilutionCase),
  evaluateListOps: h09.HIDDEN_LISTOPS_CASES.map(listOpsCase),
  crossoverLength: h09.HIDDEN_CROSSOVER_CASES.map(lengthCrossoverCase),
} satisfies HiddenFor<typeof lesson09Exercises>;

/** Hidden cases by lesson and exercise name. */
export const hiddenCases: Record<string, Record<string, Case<unknown[]>[] | undefined>> = {
  "01": hidden01,
  "02": hidden02,
  "03": hidden03,
  "04": hidden04,
  "05": hidden05,
  "06": hidden06,
  "07": hidden07,
  "08": hidden08,
  "09": hidden09,
};
