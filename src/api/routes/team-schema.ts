import { z } from '@hono/zod-openapi';

export const TeamSchema = z
  .object({
    teamId: z.string(),
    name: z.string(),
    kind: z.enum(['personal', 'shared']),
    externalRef: z.string().nullable(),
    currency: z.string(),
    lateUsagePolicy: z.enum(['adjust', 'reject']),
    appIds: z.array(z.string()),
    stripeCustomerId: z.string().nullable().openapi({ description: 'Set once provisioning has created the Stripe customer' }),
    testClockId: z.string().nullable().openapi({ description: 'The test clock the team lives on; null: real time' }),
    createdAt: z.string(),
    provisioningWorkflowId: z.string().optional(),
  })
  .openapi('Team');
