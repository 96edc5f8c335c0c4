/** The first few items of a list and how many more: a long list stays readable on one message line. */
export function abbreviateList(items: readonly string[], shown = 5): string {
  if (items.length <= shown) return items.join(', ');
  return `${items.slice(0, shown).join(', ')} and ${items.length - shown} more`;
}
