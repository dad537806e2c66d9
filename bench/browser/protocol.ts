import type { BackendChoice, BackendPreference } from '../../src/engine/backend';
import type { GridOptions } from '../grid';
import type { StepMeasurement } from '../step';

export interface BenchRequest {
  backend: BackendPreference;
  grid: GridOptions;
  flags?: Record<string, number | boolean>;
}

export type BenchMessage =
  | { kind: 'log'; text: string }
  | {
    kind: 'done';
    backend: BackendChoice;
    matmulFlopsPerSecond: number;
    weightBytes: { int8Package: number; float32Package: number };
    /** Milliseconds since the worker started: backend ready, model loaded, first step done. */
    milestones: { backendReady: number; modelLoaded: number; firstStepDone: number };
    firstStep: StepMeasurement;
    grid: StepMeasurement[];
    synthetic: { model: string; parameters: number; measurement: StepMeasurement | null; error?: string }[];
  }
  | { kind: 'error'; text: string };
