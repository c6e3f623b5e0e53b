/**
 * Workflow ids are business keys (`<capability>:<key>`), so Temporal's own id uniqueness is the first
 * line of defence against doing a thing twice, and an operator can find a workflow by what it is for.
 */
export const workflowIds = {
  provisionTeam: (teamId: string) => `team:${teamId}:provision`,
  subscription: (subscriptionId: string) => `subscription:${subscriptionId}`,
  period: (subscriptionId: string, periodStartIso: string) => `period:${subscriptionId}:${periodStartIso}`,
} as const;
