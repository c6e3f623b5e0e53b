/** Task queue names. The worker polls these; clients start workflows on them. */
export const TASK_QUEUE = {
  billing: 'billing',
} as const;
