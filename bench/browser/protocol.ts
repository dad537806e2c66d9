import type { BackendChoice, BackendPreference } from '../../src/engine/backend';
import type { BackendMeasurements } from '../backendBench';
import type { GridOptions } from '../grid';
import type { SoakOptions, SoakResult } from '../soakCore';
import type { StepMeasurement } from '../step';

export interface BenchRequest {
  backend: BackendPreference;
  grid: GridOptions;
  flags?: Record<string, number | boolean>;
}

/** `npm run bench:soak -- --browser`: the driver hands the page the CSV text (the page cannot read ../shared). */
export interface SoakRequest {
  backend: BackendPreference;
  csv: string;
  file: string;
  options: SoakOptions;
}

export type BenchMessage =
  | { kind: 'log'; text: string }
  | ({
    kind: 'done';
    backend: BackendChoice;
    matmulFlopsPerSecond: number;
    weightBytes: { int8Package: number; float32Package: number };
    /** Milliseconds since the worker started: backend ready, model loaded, first step done. */
    milestones: { backendReady: number; modelLoaded: number; firstStepDone: number };
    /** Null when the grid has no training shapes (`--only generation`). */
    firstStep: StepMeasurement | null;
  } & BackendMeasurements)
  | { kind: 'soak'; result: SoakResult }
  | { kind: 'error'; text: string };
