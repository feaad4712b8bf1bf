import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import {
  Classifier, classifierDataset, distanceReport, EmpiricalDenoiser, memorizationRate, nearestNeighbours, neighbourGrid,
  SmoothedEmpiricalDenoiser, trainClassifier,
} from './index.js';

describe('evaluation refuses unknown options', () => {
  const set = { data: new Float32Array(8), shape: [2, 2, 2, 1] as [number, number, number, number] };
  const schedule = makeSchedule({ numTrainTimesteps: 10 });
  const bogus = { bogus: 1 } as never;
  const labeled = { images: new Float32Array(16), shape: [4, 2, 2, 1] as [number, number, number, number], labels: Int32Array.from([0, 1, 0, 1]) };
  const cases: [string, () => unknown][] = [
    ['nearestNeighbours', () => nearestNeighbours(set, set, 1, bogus)],
    ['memorizationRate', () => memorizationRate(set, set, bogus)],
    ['distanceReport', () => distanceReport(set, set, set, bogus)],
    ['neighbourGrid', () => neighbourGrid(set, set, bogus)],
    ['classifierDataset', () => classifierDataset(labeled, bogus)],
    ['EmpiricalDenoiser', () => new EmpiricalDenoiser(set, schedule, bogus)],
    ['SmoothedEmpiricalDenoiser', () => new SmoothedEmpiricalDenoiser({ trainImages: set, schedule, temperature: 1, k: 1, bogus: 1 } as never)],
    ['Classifier', () => new Classifier({ inputShape: [2, 2, 1], conv: [], downsample: 'stride', hidden: [2], numClasses: 2, bogus: 1 } as never)],
  ];
  it.each(cases)('%s', (name, call) => {
    const before = tf.memory().numTensors;
    expect(call).toThrow(`${name}: unknown option 'bogus'. Accepted: `);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trainClassifier', async () => {
    const data = { train: { images: set, labels: [0, 1] }, test: { images: set, labels: [0, 1] } };
    await expect(trainClassifier(data, { lr: 1e-3 } as never)).rejects.toThrow(
      "trainClassifier: unknown option 'lr'; did you mean 'learningRate'? Accepted: ",
    );
  });

  it('names the nearest option and still passes chunkSize on', () => {
    expect(() => memorizationRate(set, set, { chunk_size: 1 } as never)).toThrow("memorizationRate: unknown option 'chunk_size'; did you mean 'chunkSize'?");
    expect(memorizationRate(set, set, { chunkSize: 1, ratio: 0.5 }).rate).toBeGreaterThanOrEqual(0);
    expect(distanceReport(set, set, set, { chunkSize: 1, bins: 2 }).histogram.train.length).toBe(2);
  });
});
