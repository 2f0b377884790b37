import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes the run upserts each step, so the Web UI can list and filter runs by health. */
export const ArbiterStep = defineSearchAttributeKey('ArbiterStep', SearchAttributeType.INT);
export const ArbiterStatus = defineSearchAttributeKey('ArbiterStatus', SearchAttributeType.KEYWORD);
export const ArbiterRewardMean = defineSearchAttributeKey('ArbiterRewardMean', SearchAttributeType.DOUBLE);
export const ArbiterFallbackRate = defineSearchAttributeKey('ArbiterFallbackRate', SearchAttributeType.DOUBLE);
export const ArbiterJudgeModel = defineSearchAttributeKey('ArbiterJudgeModel', SearchAttributeType.KEYWORD);

export const ARBITER_SEARCH_ATTRIBUTES = [
  ArbiterStep,
  ArbiterStatus,
  ArbiterRewardMean,
  ArbiterFallbackRate,
  ArbiterJudgeModel,
];
