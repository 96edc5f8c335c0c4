/**
 * The first few items of a list and how many more: a long list stays readable on one message line. `separator` is
 * for items that hold commas themselves (a file and its reason), where ', ' would not show where one item ends.
 */
export function abbreviateList(items: readonly string[], shown = 5, separator = ', '): string {
  if (items.length <= shown) return items.join(separator);
  return `${items.slice(0, shown).join(separator)} and ${items.length - shown} more`;
}
