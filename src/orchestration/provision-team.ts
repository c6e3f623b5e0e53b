/** Starts the provisionTeam workflow for a team; safe to call any number of times. */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { provisionTeam } from '../workflows/provision-team.js';
import { workflowIds } from '../workflows/ids.js';
import { TeamId } from '../shared/search-attributes.js';

export async function startProvisionTeam(client: Client, taskQueue: string, teamId: string): Promise<string> {
  const workflowId = workflowIds.provisionTeam(teamId);
  try {
    await client.workflow.start(provisionTeam, {
      taskQueue,
      workflowId,
      args: [{ teamId }],
      // A running or completed provisioning is reused; only a failed one may run again.
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [{ key: TeamId, value: teamId }],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return workflowId;
}
