import { useSettingsStore } from '../../state/settingsStore';
import { useTokenLengthStore } from '../../state/tokenLengthStore';
import { CutByMaxLength } from '../data/TokenLengthsLine';

/** Beside the max length: what it cuts of the loaded data, counted in the model's tokens. */
export function MaxLengthNote() {
  const lengths = useTokenLengthStore((s) => s.lengths);
  const maxLength = useSettingsStore((s) => s.config.maxLength);
  if (!lengths || lengths.train.length + lengths.validation.length === 0) return null;
  return <p className="offer" data-testid="max-length-note"><CutByMaxLength lengths={lengths} maxLength={maxLength} besideField /></p>;
}
