/** Scopes an app token may carry. Each route names the one it needs. */
export const SCOPES = [
  'teams:read',
  'usage:write',
  'usage:read',
  'entitlements:read',
  'billing:read',
  'checkout:write',
  'subscription:write',
  'catalog:read',
  'wallet:read',
  'wallet:write',
] as const;

export type Scope = (typeof SCOPES)[number];
