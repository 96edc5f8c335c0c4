// Exit policies and counterfactual evaluation of them on recorded sessions (pure: no server imports).
export * from './policy-json';
export * from './statistics';
export * from './session-table';
export { runTableEvents } from './run-table-events';
export { evaluatePolicy } from './evaluate';
export { latencyColumns, linkFor, transferMs } from './latency';
export { sweep, thresholdGrid, type SweepOptions } from './sweep';
export { paretoFrontier, type ParetoInput } from './pareto';
export { fitBudgetPolicy } from './budget';
export { liveOutcomeFromEvents, type LiveOutcome } from './live';
export { prng, syntheticSessionEvents, type SyntheticSessionOptions } from './synthetic';
export { benchmarkSweep, type SweepBenchmark } from './benchmark';
export { comparePolicies } from './compare';
export { compareRequestSchema, parseCompareRequest, parseSampleWindow, parseSweepPolicy } from './request-json';
export {
  carries,
  decideSample,
  exitCode,
  featuresReachedOn,
  liveRuleOf,
  loggedEntropy,
  SampleDecider,
  type ExitCheck,
  type ExitOutput,
  type ExitPlan,
  type Hop,
  type SampleExit,
  type SampleIds,
  type SampleOutputs,
  type Stage,
  type Transfer,
} from './exit-core';
export * from './estimation';
