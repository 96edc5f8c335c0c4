import type { Page } from 'playwright-core';

/**
 * Fails when the page, or at 1280 px and wider any card, overflows horizontally: a card wider than its box, or
 * a table or code block inside one that scrolls sideways. The page-level check alone missed a 1,381 px table
 * scrolling inside a 1,198 px card.
 */
export async function assertNoOverflow(page: Page, name: string): Promise<void> {
  const problems = await page.evaluate(() => {
    const out: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth) out.push(`the page is ${doc.scrollWidth} px wide in a ${doc.clientWidth} px window`);
    if (window.innerWidth < 1280) return out;
    const label = (el: Element) => {
      const card = el.closest('.card, .stat');
      const title = card?.querySelector('h2, .stat-label')?.textContent?.trim();
      return `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(/\s+/).join('.')}` : ''}${title ? ` in "${title}"` : ''}`;
    };
    for (const card of Array.from(document.querySelectorAll('.card, .stat'))) {
      if (card.scrollWidth > card.clientWidth + 1) out.push(`${label(card)} is ${card.scrollWidth} px wide in ${card.clientWidth} px`);
      for (const el of Array.from(card.querySelectorAll('.table-wrap, pre, table, .toolbar, .kv'))) {
        if (el.scrollWidth > el.clientWidth + 1) out.push(`${label(el)} scrolls: ${el.scrollWidth} px of content in ${el.clientWidth} px`);
      }
    }
    return out;
  });
  if (problems.length) throw new Error(`${name}: horizontal overflow at ${page.viewportSize()?.width} px:\n  ${problems.join('\n  ')}`);
}

/**
 * Fails when a chart's y-axis tick label is cut off by its chart's edge: a fixed axis width cut "600.0/min" to
 * "00.0/min" on the monitoring page, which no overflow check sees (an SVG clips its text without scrolling).
 */
export async function assertAxisTicksInside(page: Page, name: string): Promise<void> {
  const clipped = await page.evaluate(() =>
    Array.from(document.querySelectorAll('.recharts-yAxis .recharts-cartesian-axis-tick-value')).flatMap((t) => {
      const svg = t.closest('svg');
      if (!svg) return [];
      const box = t.getBoundingClientRect();
      const frame = svg.getBoundingClientRect();
      const title = t.closest('.card')?.querySelector('h2')?.textContent?.trim() ?? '?';
      return box.left < frame.left - 0.5 || box.right > frame.right + 0.5 ? [`"${t.textContent}" in "${title}"`] : [];
    }),
  );
  if (clipped.length) throw new Error(`${name}: y-axis ticks cut off by their chart:\n  ${clipped.join('\n  ')}`);
}
