/**
 * What a plan version entitles a team to: its boolean features (with those its add-ons turn on)
 * and its numeric limits. Pure; the entitlement checks combine this with usage, contracts and wallets.
 */
import type { PlanVersion } from './plan-versions.js';
import type { PlanLimit } from './schema.js';

export interface VersionEntitlements {
  features: Record<string, boolean>;
  limits: Record<string, PlanLimit>;
}

/** Features and limits of `version` for a team that has the add-ons `addOnCodes`. */
export function versionEntitlements(version: Pick<PlanVersion, 'id' | 'features' | 'limits' | 'addOns'>, addOnCodes: readonly string[] = []): VersionEntitlements {
  const features = { ...version.features };
  for (const code of addOnCodes) {
    if (!Object.hasOwn(version.addOns, code)) throw new RangeError(`Plan version ${version.id} has no add-on ${code}`);
    for (const feature of version.addOns[code]!.features) features[feature] = true;
  }
  return { features, limits: { ...version.limits } };
}
