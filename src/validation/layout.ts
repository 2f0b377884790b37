import { joinLocation as join } from '../storage/location';
import { unitFile, type WorkUnit } from './work-plan';

/** The files of one validation, under `<outputDir>/<validationId>/`. */
export class ValidationLayout {
  constructor(readonly dir: string) {}
  static of(outputDir: string, validationId: string): ValidationLayout {
    return new ValidationLayout(join(outputDir, validationId));
  }
  /** The dataset as validated, one item a line: every activity reads this copy. */
  get items(): string {
    return join(this.dir, 'items.jsonl');
  }
  get attacks(): string {
    return join(this.dir, 'attacks.jsonl');
  }
  unit(unit: WorkUnit): string {
    return join(this.dir, unitFile(unit));
  }
  get report(): string {
    return join(this.dir, 'report.json');
  }
  get summary(): string {
    return join(this.dir, 'summary.txt');
  }
}
