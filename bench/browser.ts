import type { BackendReport } from './node';
export async function runBrowserBench(_quick: boolean, log: (s: string) => void): Promise<BackendReport[]> {
  log('browser bench: not wired yet');
  return [];
}
