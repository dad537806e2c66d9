/**
 * A small line chart as standalone SVG (no browser, no dependencies) for the results
 * committed under docs/results: one line per series over shared x values.
 */
export interface Series {
  name: string;
  values: (number | null)[];
}

const COLORS = ['#3b5bdb', '#e8590c', '#2f9e44', '#ae3ec9', '#c92a2a', '#1098ad'];

function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function lineChart(opts: {
  title: string; xLabel: string; yLabel: string; x: number[]; series: Series[];
  yMin?: number; yMax?: number; logX?: boolean; reference?: { value: number; label: string };
}): string {
  const width = 640, height = 400, left = 60, right = 170, top = 40, bottom = 50;
  const plotW = width - left - right, plotH = height - top - bottom;
  const xs = opts.logX ? opts.x.map(Math.log) : opts.x;
  const xMin = Math.min(...xs), xMax = Math.max(...xs);
  const yMin = opts.yMin ?? 0, yMax = opts.yMax ?? 1;
  const px = (i: number) => left + ((xs[i] - xMin) / (xMax - xMin || 1)) * plotW;
  const py = (v: number) => top + (1 - (v - yMin) / (yMax - yMin)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`);
  for (let k = 0; k <= 5; k++) {
    const v = yMin + ((yMax - yMin) * k) / 5;
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${py(v)}" y2="${py(v)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 8}" y="${py(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  opts.x.forEach((x, i) => parts.push(`<text x="${px(i)}" y="${top + plotH + 18}" text-anchor="middle">${x}</text>`));
  parts.push(`<text x="${left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  if (opts.reference) {
    const y = py(opts.reference.value);
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#777" stroke-dasharray="5 4"/>`);
    parts.push(`<text x="${left + plotW + 6}" y="${y + 4}" fill="#555">${escapeXml(opts.reference.label)}</text>`);
  }
  opts.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    const points = s.values.map((v, i) => (v === null ? null : `${px(i)},${py(v)}`)).filter(Boolean);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
    s.values.forEach((v, i) => { if (v !== null) parts.push(`<circle cx="${px(i)}" cy="${py(v)}" r="3.5" fill="${color}"/>`); });
    const ly = top + 10 + k * 20;
    parts.push(`<line x1="${left + plotW + 12}" x2="${left + plotW + 32}" y1="${ly + 20}" y2="${ly + 20}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${left + plotW + 38}" y="${ly + 24}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
