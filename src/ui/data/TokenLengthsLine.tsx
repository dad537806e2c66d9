import { useSettingsStore } from '../../state/settingsStore';
import { useTokenLengthStore } from '../../state/tokenLengthStore';
import { cutByMaxLength, lengthQuantile, maxLengthKeeping, type TokenLengths } from '../../tuning/tokenLengths';

/** Above this share of texts cut, the line is a warning: the model reads less of them than there is. */
const MANY_CUT = 0.05;

function share(part: number, of: number): string {
  const percent = (100 * part) / Math.max(1, of);
  if (part > 0 && percent < 0.1) return 'under 0.1%';
  return `${percent < 1 && part > 0 ? percent.toFixed(1) : Math.round(percent)}%`;
}

/** What the max length does to this data: how many texts it cuts. The Data step and the Method step both say it. */
export function CutByMaxLength({ lengths, maxLength, besideField }: { lengths: TokenLengths; maxLength: number; besideField?: boolean }) {
  const { cut, of, sampled } = cutByMaxLength(lengths, maxLength);
  return (
    <span data-testid="cut-by-max-length" data-cut={cut}>
      {cut === 0
        ? <>The max length ({maxLength}) cuts none of them.</>
        : <>The max length ({maxLength}) cuts {sampled ? 'about ' : ''}<span className="num">{cut.toLocaleString('en')}</span> of {of.toLocaleString('en')} ({share(cut, of)}).</>}
      {cut / Math.max(1, of) > MANY_CUT && <> To keep 95% whole: max length {maxLengthKeeping(lengths, 0.95)} ({besideField ? '' : 'Method › Advanced; '}a longer batch takes longer).</>}
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
  if (all.length === 0) return null;
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
