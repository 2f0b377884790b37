import { fileURLToPath } from 'node:url';

/** The workflows entry point the worker bundles. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
