/**
 * The data's token lengths with the loaded model's tokenizer, through the template
 * (tuning/tokenLengths.ts): what the max length cuts, and how wide batches come out, which
 * the run estimate follows. Asked of the worker again whenever the dataset, the model or the
 * template changes, or the max length passes the length they were counted up to; the figures
 * of an older one are never shown for a newer one.
 */
import { create } from 'zustand';
import type { TokenLengths } from '../engine/api';
import { lengthCapFor } from '../tuning/tokenLengths';
import { useDataStore } from './dataStore';
import { useModelStore } from './modelStore';
import { useSettingsStore } from './settingsStore';
import { workerClient } from './workerClient';

interface TokenLengthState {
  lengths: TokenLengths | null;
}

export const useTokenLengthStore = create<TokenLengthState>(() => ({ lengths: null }));

let request = 0;
let timer: ReturnType<typeof setTimeout> | null = null;

function refresh(): void {
  const current = ++request;
  if (timer) clearTimeout(timer);
  useTokenLengthStore.setState({ lengths: null });
  const { dataset } = useDataStore.getState();
  if (!dataset || !useModelStore.getState().facts) return;
  // The template changes per keystroke; the figures follow once typing pauses.
  timer = setTimeout(() => {
    timer = null;
    const { template, maxLength } = useSettingsStore.getState().config;
    workerClient().request('tokenLengths', { template, cap: lengthCapFor(maxLength) }).then(
      (lengths) => { if (current === request) useTokenLengthStore.setState({ lengths }); },
      // No figures rather than wrong ones (a model still loading, a dataset rebuilt meanwhile): the next change asks again.
      () => {},
    );
  }, 300);
}

useDataStore.subscribe((data, before) => { if (data.dataset !== before.dataset) refresh(); });
useModelStore.subscribe((model, before) => { if (model.facts !== before.facts) refresh(); });
useSettingsStore.subscribe((settings, before) => {
  // Past the cap the counts were taken with, they cannot say what the max length cuts: counted again, further.
  const capBefore = lengthCapFor(before.config.maxLength);
  if (settings.config.template !== before.config.template || lengthCapFor(settings.config.maxLength) !== capBefore) refresh();
});
