export { rftRun } from './rft-run';
