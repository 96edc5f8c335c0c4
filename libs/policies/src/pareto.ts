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
  const points: { i: number; acc: number; bytes: number }[] = [];
  out.forEach((r, i) => {
    if (typeof r.accuracy === 'number' && typeof r.bytesPerSample === 'number') {
      points.push({ i, acc: r.accuracy, bytes: r.bytesPerSample });
    }
  });
  // Cheapest first, most accurate first within equal bytes.
  points.sort((a, b) => a.bytes - b.bytes || b.acc - a.acc);
  let bestCheaper = -Infinity;
  let g = 0;
  while (g < points.length) {
    let end = g;
    while (end < points.length && points[end].bytes === points[g].bytes) end++;
    const groupBest = points[g].acc;
    for (let j = g; j < end; j++) out[points[j].i].dominated = bestCheaper >= points[j].acc || groupBest > points[j].acc;
    bestCheaper = Math.max(bestCheaper, groupBest);
    g = end;
  }
  return out;
}
