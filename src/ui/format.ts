export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/** "1 h 02 min", "3 min 05 s", "12 s", "0.8 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, '0')} s`;
  return `${sec} s`;
}

export function formatPercent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)}%`;
}

export function formatNumber(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

/**
 * A token as text with its whitespace made visible: tokens often begin with a space,
 * which would otherwise vanish (" named" and "named" are different tokens).
 */
export function visibleToken(token: string): string {
  return token.replace(/ /g, '\u2423');
}

/** A verbalizer value with its leading/trailing spaces made visible. */
export function visibleSpaces(text: string): string {
  return text.replace(/^ +| +$/g, (m) => '\u2423'.repeat(m.length));
}

/** Text the model wrote, its edge spaces (␣) and line breaks (↵) made visible: a label word's leading space is part of it. */
export function visibleContinuation(text: string): string {
  return visibleSpaces(text).replace(/\r?\n/g, '\u21b5');
}
