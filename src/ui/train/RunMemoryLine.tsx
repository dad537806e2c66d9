import { useTrainingStore } from '../../state/trainingStore';

/** The run's memory plan: its peak against the backend's limit, and what is recomputed to fit. */
export function RunMemoryLine() {
  const memory = useTrainingStore((s) => s.info?.memory ?? null);
  if (!memory) return null;
  return <p className="muted run-memory" data-testid="run-memory" data-recompute={memory.mlpRecompute}>{memory.note}</p>;
}
