// For the Python suite (clients/python/tests/test_export_datasets.py): writes the judged run of
// judged-run.ts into a folder and prints it as JSON. Usage: node --import tsx test/support/make-judged-run.ts <dir> [--trajectories]
import { writeJudgedRun } from './judged-run';

const [dir, flag] = process.argv.slice(2);
if (!dir) throw new Error('usage: make-judged-run.ts <dir> [--trajectories]');
console.log(JSON.stringify(await writeJudgedRun(dir, { trajectories: flag === '--trajectories' })));
