/** The committed TF op support table is the registry's (regenerate with `npm run tf-ops-table`). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tfSupportTable } from '../../../src/formats/tf/support-table.js';
import { ROOT } from '../../helpers/cli.js';

describe('src/formats/tf/SUPPORTED_OPS.md', () => {
  it('lists exactly the ops the registry and the importer handle', () => {
    const committed = readFileSync(join(ROOT, 'src/formats/tf/SUPPORTED_OPS.md'), 'utf8');
    expect(committed, 'the table is stale: run npm run tf-ops-table').toBe(tfSupportTable());
    for (const op of ['Conv2D', 'StridedSlice', 'TensorListSetItem', 'TensorArrayV3', 'StatelessWhile', 'Switch', 'FusedBatchNormV3']) {
      expect(committed).toContain(`\`${op}\``);
    }
  });
});
