import { z } from 'zod';
import type { ModelTestMetrics, ModelTrainingFacts } from '@ddnn/contracts';

// A manifest is a file someone uploaded: every field is read defensively, and a field of the wrong type is
// left out (null) rather than shown or trusted.
const num = z.number().finite();
const optNum = num.nullable().optional().catch(null);
const optStr = z.string().max(200).nullable().optional().catch(null);

const trainingSchema = z.object({
  dataset: optStr,
  trainSamples: optNum,
  epochs: optNum,
  batchSize: optNum,
  learningRate: optNum,
  validation: z
    .object({ samples: num, bestEpoch: num, score: num, stoppedEarly: z.boolean().catch(false) })
    .nullable()
    .optional()
    .catch(null),
  secondsTotal: optNum,
  backend: optStr,
  finishedAt: optStr,
  finalExits: z
    .array(z.object({ exit: z.string().max(64), accuracy: num, samples: optNum }))
    .max(64)
    .optional()
    .catch([]),
});

const testSchema = z.object({
  samples: num,
  overall: num,
  local: num,
  cloud: num,
  localExitRate: num,
  bytesPerSample: num,
  rawBytesPerSample: optNum,
});

/** Threshold, training record and test metrics a checkpoint manifest holds, for the models page. */
export function modelFacts(manifest: unknown): { threshold: number | null; training: ModelTrainingFacts | null; testMetrics: ModelTestMetrics | null } {
  const m = (typeof manifest === 'object' && manifest !== null ? manifest : {}) as Record<string, unknown>;
  const threshold = z.number().min(0).max(1).safeParse(m.threshold);
  const training = trainingSchema.safeParse(m.training);
  const metrics = m.metrics as Record<string, unknown> | undefined;
  const test = testSchema.safeParse(metrics && typeof metrics === 'object' ? metrics.test : undefined);
  return {
    threshold: threshold.success ? threshold.data : null,
    training: training.success
      ? {
          dataset: training.data.dataset ?? null,
          trainSamples: training.data.trainSamples ?? null,
          epochs: training.data.epochs ?? null,
          batchSize: training.data.batchSize ?? null,
          learningRate: training.data.learningRate ?? null,
          validation: training.data.validation ?? null,
          secondsTotal: training.data.secondsTotal ?? null,
          backend: training.data.backend ?? null,
          finishedAt: training.data.finishedAt ?? null,
          exits: (training.data.finalExits ?? []).map((e) => ({ exit: e.exit, accuracy: e.accuracy, samples: e.samples ?? null })),
        }
      : null,
    testMetrics: test.success ? { ...test.data, rawBytesPerSample: test.data.rawBytesPerSample ?? null } : null,
  };
}
