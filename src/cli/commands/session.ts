/** The model session the model-only commands (generate, info) open: cpu by default, int8 unless --float. */
import { ModelSession } from '../../engine/session';
import { nodeBackend } from '../args';
import { folderSource, repoModelDir } from '../nodeSource';

export async function openSession(values: { backend?: string; model?: string; float?: boolean }): Promise<ModelSession> {
  const backend = await nodeBackend(values);
  return ModelSession.open(folderSource(values.model ?? repoModelDir()), backend, undefined, { quantize: !values.float });
}

