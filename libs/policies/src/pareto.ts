/** A row that can sit on the accuracy-vs-bytes plane; rows without both numbers are left unmarked. */
export interface ParetoInput {
  accuracy?: number | null;
  bytesPerSample?: number;
}

/**
 * Marks each row `dominated` when another row has at least its accuracy with at most its bytes and is
 * strictly better in one. Rows lacking accuracy or bytes keep `dominated` undefined. O(n log n).
 */
export function paretoFrontier<T extends ParetoInput>(rows: T[]): (T & { dominated?: boolean })[] {
  const out = rows.map((r) => ({ ...r }) as T & { dominated?: boolean });
  const idx = out
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => typeof r.accuracy === 'number' && typeof r.bytesPerSample === 'number')
    .sort((a, b) => a.r.bytesPerSample! - b.r.bytesPerSample! || b.r.accuracy! - a.r.accuracy!);
  let bestCheaper = -Infinity;
  let g = 0;
  while (g < idx.length) {
    let end = g;
    const bytes = idx[g].r.bytesPerSample!;
    while (end < idx.length && idx[end].r.bytesPerSample === bytes) end++;
    const groupBest = idx[g].r.accuracy!;
    for (let j = g; j < end; j++) {
      const acc = idx[j].r.accuracy!;
      out[idx[j].i].dominated = bestCheaper >= acc || groupBest > acc;
    }
    bestCheaper = Math.max(bestCheaper, groupBest);
    g = end;
  }
  return out;
}
