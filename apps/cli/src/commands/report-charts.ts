// Minimal SVG charts for the paper report: no dependency, readable on GitHub.

export interface Series {
  name: string;
  points: [number, number][];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const W = 640;
const H = 360;
const M = { left: 60, right: 160, top: 40, bottom: 50 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

function ticks(lo: number, hi: number, n = 5): number[] {
  const step = (hi - lo) / n;
  return Array.from({ length: n + 1 }, (_, i) => lo + i * step);
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function frame(title: string, xLabel: string, yLabel: string, x: (v: number) => number, y: (v: number) => number, xr: [number, number], yr: [number, number], xTicks?: { at: number; label: string }[]): string[] {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - M.right / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`,
  ];
  for (const t of ticks(yr[0], yr[1])) {
    out.push(`<line x1="${M.left}" y1="${y(t)}" x2="${W - M.right}" y2="${y(t)}" stroke="#ddd"/>`, `<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of xTicks ?? ticks(xr[0], xr[1]).map((at) => ({ at, label: fmt(at) }))) {
    out.push(`<text x="${x(t.at)}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(t.label)}</text>`);
  }
  return out;
}

function legend(names: string[]): string[] {
  return names.map((n, i) => `<rect x="${W - M.right + 12}" y="${M.top + i * 18}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${W - M.right + 30}" y="${M.top + i * 18 + 10}">${esc(n)}</text>`);
}

/** A line chart with markers. */
export function lineChart(opts: { title: string; xLabel: string; yLabel: string; series: Series[]; yRange?: [number, number]; xTicks?: { at: number; label: string }[] }): string {
  const xs = opts.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = opts.series.flatMap((s) => s.points.map((p) => p[1]));
  const xr: [number, number] = [Math.min(...xs), Math.max(...xs) === Math.min(...xs) ? Math.min(...xs) + 1 : Math.max(...xs)];
  const yr = opts.yRange ?? [Math.min(0, ...ys), Math.max(...ys) * 1.05 || 1];
  const x = (v: number) => M.left + ((v - xr[0]) / (xr[1] - xr[0])) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - ((v - yr[0]) / (yr[1] - yr[0])) * (H - M.top - M.bottom);
  const out = frame(opts.title, opts.xLabel, opts.yLabel, x, y, xr, yr, opts.xTicks);
  opts.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`);
    for (const p of s.points) out.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${c}"/>`);
  });
  out.push(...legend(opts.series.map((s) => s.name)), '</svg>');
  return out.join('\n') + '\n';
}

/** Grouped bars: one group per category, one bar per series. */
export function barChart(opts: { title: string; yLabel: string; categories: string[]; series: { name: string; values: number[] }[]; yRange: [number, number] }): string {
  const n = opts.categories.length;
  const yr = opts.yRange;
  const x = (v: number) => M.left + ((v + 0.5) / n) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - ((Math.max(yr[0], v) - yr[0]) / (yr[1] - yr[0])) * (H - M.top - M.bottom);
  const out = frame(opts.title, '', opts.yLabel, x, y, [0, n], yr, opts.categories.map((label, i) => ({ at: i, label })));
  const groupWidth = ((W - M.left - M.right) / n) * 0.8;
  const bw = groupWidth / opts.series.length;
  opts.series.forEach((s, j) => {
    s.values.forEach((v, i) => {
      const left = x(i) - groupWidth / 2 + j * bw;
      out.push(`<rect x="${left.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(H - M.bottom - y(v)).toFixed(1)}" fill="${COLORS[j % COLORS.length]}"/>`);
    });
  });
  out.push(...legend(opts.series.map((s) => s.name)), '</svg>');
  return out.join('\n') + '\n';
}
