/** Route metadata key for the access a handler requires (written by RequireAccess, read by AuthGuard). */
export const ACCESS_KEY = 'ddnn:access';
/** operator: the operator token only; operator-or-self: also the device named by the `:id` route parameter. */
export type Access = 'operator' | 'operator-or-self';
