// Types of eslint.boundaries.js (a plain module, so eslint.config.js can load it without a build).
import type { Linter } from 'eslint';

declare const boundaries: Linter.Config[];
export default boundaries;
export const WORKFLOW_INTERNALS: string[];
