import { useModelStore } from '../../state/modelStore';
import { useSettingsStore } from '../../state/settingsStore';
import { isActive, useTrainingStore } from '../../state/trainingStore';
import { useTokenLengthStore } from '../../state/tokenLengthStore';
import { cutByMaxLength, lengthQuantile, suggestedMaxLength, type TokenLengths } from '../../tuning/tokenLengths';

/** Above this share of texts cut, the line is a warning: the model reads less of them than there is. */
const MANY_CUT = 0.05;
/**
 * The share of texts the warning's suggested max length keeps whole. Not 95%: past a 5% cut
 * the 95% length is barely above the max length that warned ("cuts 5%: 129 keeps 95%").
 */
const KEEP_WHOLE = 0.99;

function share(part: number, of: number): string {
  const percent = (100 * part) / Math.max(1, of);
  if (part > 0 && percent < 0.1) return 'under 0.1%';
  return `${percent < 1 && part > 0 ? percent.toFixed(1) : Math.round(percent)}%`;
}

/** What the max length does to this data: how many texts it cuts. The Data step and the Method step both say it. */
export function CutByMaxLength({ lengths, maxLength, besideField }: { lengths: TokenLengths; maxLength: number; besideField?: boolean }) {
  const maxPositions = useModelStore((s) => s.facts?.maxPositions ?? Infinity);
  const virtualTokens = useSettingsStore((s) => s.config.numVirtualTokens);
  const set = useSettingsStore((s) => s.set);
  const locked = useTrainingStore(isActive);
  if (maxLength >= lengths.cap) return null; // counted for a shorter max length: new counts are on their way
  const { cut, of, sampled } = cutByMaxLength(lengths, maxLength);
  // The label needs a position at least, after the virtual tokens and the text.
  const suggestion = suggestedMaxLength(lengths, KEEP_WHOLE, maxPositions - virtualTokens - 1);
  const where = besideField ? '' : 'Method › Advanced; ';
  return (
    <span data-testid="cut-by-max-length" data-cut={cut}>
      {cut === 0
        ? <>The max length ({maxLength}) cuts none of them.</>
        : <>The max length ({maxLength}) cuts {sampled ? 'about ' : ''}<span className="num">{cut.toLocaleString('en')}</span> of {of.toLocaleString('en')} ({share(cut, of)}).</>}
      {cut / Math.max(1, of) > MANY_CUT && suggestion && suggestion.maxLength > maxLength && <>
        {suggestion.limitedByRoom
          ? <> The model&apos;s {maxPositions.toLocaleString('en')} positions leave room for a max length of {suggestion.maxLength} with {virtualTokens} virtual tokens, which keeps {share(Math.round(suggestion.keeps * of), of)} whole ({where}a longer batch takes longer).</>
          : <> To keep {Math.round(KEEP_WHOLE * 100)}% whole: max length {suggestion.maxLength} ({where}a longer batch takes longer).</>}
        {' '}<button type="button" className="link" disabled={locked} data-testid="use-max-length" onClick={() => set('maxLength', suggestion.maxLength)}>Use {suggestion.maxLength}</button>
      </>}
    </span>
  );
}

/**
 * How long the texts are in the model's own tokens, template and [BOS] included: the max
 * length is counted in them, and a batch is as wide as its longest text, so they decide what
 * is cut and how long a step takes.
 */
export function TokenLengthsLine() {
  const lengths = useTokenLengthStore((s) => s.lengths);
  const maxLength = useSettingsStore((s) => s.config.maxLength);
  if (!lengths) return null;
  const all = [...lengths.train, ...lengths.validation].sort((a, b) => a - b);
  if (all.length === 0 || maxLength >= lengths.cap) return null;
  const { cut, of } = cutByMaxLength(lengths, maxLength);
  const longest = all[all.length - 1];
  return (
    <p className={cut / Math.max(1, of) > MANY_CUT ? 'token-lengths warning' : 'token-lengths'} data-testid="token-lengths"
      data-median={lengthQuantile(all, 0.5)} data-longest={longest}>
      Text lengths in this model&apos;s tokens, template included: median <span className="num">{lengthQuantile(all, 0.5)}</span>, 95% within{' '}
      <span className="num">{lengthQuantile(all, 0.95)}</span>, the longest{' '}
      <span className="num">{longest >= lengths.cap ? `${lengths.cap.toLocaleString('en')} or more` : longest}</span>
      {all.length < of ? ` (from a sample of ${all.length.toLocaleString('en')})` : ''}.{' '}
      <CutByMaxLength lengths={lengths} maxLength={maxLength} />
    </p>
  );
}
