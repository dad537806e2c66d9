/** `info`: the model's facts: parameters, bytes by dtype, backend. */
import * as tf from '@tensorflow/tfjs';
import { parse, type CliIo } from '../args';
import { openSession } from './session';

export async function infoCommand(argv: string[], io: CliIo): Promise<void> {
  const values = parse(argv, {});
  const session = await openSession(values);
  const facts = session.facts();
  const memory = tf.memory();
  const report = { ...facts, tfMemory: { numTensors: memory.numTensors, numBytes: memory.numBytes } };
  if (values.json) {
    io.out(JSON.stringify(report) + '\n');
    return;
  }
  const lines = [
    `model         ${facts.name} (${facts.architecture})`,
    `parameters    ${facts.parameters}`,
    `shape         ${facts.layers} layers, d=${facts.hiddenSize}, ${facts.heads} heads, ${facts.kvHeads} kv heads, vocab ${facts.vocabSize}`,
    `quantization  ${facts.quantization}`,
    `file bytes    ${Object.entries(facts.fileBytesByDtype).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `device bytes  ${facts.backendBytes} (${Object.entries(facts.backendBytesByDtype).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    `backend       ${facts.backend}: ${facts.backendReason}`,
  ];
  io.out(lines.join('\n') + '\n');
}
