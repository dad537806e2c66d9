/**
 * The single engine worker of the page and its typed client. Stores call it; components
 * never do.
 */
import { EngineClient } from '../worker/client';

let client: EngineClient | null = null;

export function workerClient(): EngineClient {
  if (!client) {
    const worker = new Worker(new URL('../worker/studio.worker.ts', import.meta.url), { type: 'module', name: 'studio-engine' });
    client = new EngineClient(worker);
  }
  return client;
}
