/** Whatever a rejected promise carried, as an Error (ErrorNote shows its message). */
export const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));
