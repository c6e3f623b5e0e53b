/**
 * Catalog files (catalog/plans.yaml): every plan an environment should offer, applied with
 * `npm run cli -- catalog apply <file>`. Applying publishes a new version only for plans whose
 * content changed, so applying the same file twice changes nothing. Numbers in the file are kept
 * as the decimal text written (never through a float), so `0.01` means exactly 0.01.
 */
import YAML, { type Tags } from 'yaml';
import { withinTransaction, type Queryable } from '../shared/db.js';
import { validationError } from '../shared/errors.js';
import { zodFields } from '../shared/zod-fields.js';
import { publishPlanVersion } from './plan-versions.js';
import { CatalogFileSchema, type CatalogFile } from './schema.js';

const NUMBER_TAGS = new Set(['tag:yaml.org,2002:int', 'tag:yaml.org,2002:float']);

/** YAML's core schema, except that numbers resolve to their source text (decimal strings). */
function numbersAsText(tags: Tags): Tags {
  return tags.map((tag) => (typeof tag === 'object' && NUMBER_TAGS.has(tag.tag) ? { ...tag, resolve: (source: string) => source } : tag)) as Tags;
}

/** Parses and validates a catalog file; throws validation_failed naming every problem. */
export function parseCatalogFile(text: string): CatalogFile {
  const doc = YAML.parseDocument(text, { customTags: numbersAsText, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw validationError(
      doc.errors.map((e) => ({ path: e.linePos ? `(line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '(file)', message: e.message.split('\n')[0]! })),
      'The catalog file is not valid YAML',
    );
  }
  const parsed = CatalogFileSchema.safeParse(doc.toJS());
  if (!parsed.success) throw validationError(zodFields(parsed.error), 'The catalog file is not valid');
  return parsed.data;
}

export interface ApplyOutcome {
  code: string;
  versionId: string;
  /** True when this apply published a new version; false when the latest version already matched. */
  created: boolean;
}

/** Thrown inside the transaction of a dry run, so that everything it did is rolled back. */
class DryRunRollback extends Error {
  constructor(readonly outcomes: ApplyOutcome[]) {
    super('dry run');
  }
}

/**
 * Publishes every plan of `catalog` whose content differs from its latest version, all in one
 * transaction. With dryRun, reports what would be published and writes nothing.
 */
export async function applyCatalog(db: Queryable, catalog: CatalogFile, actor: string, opts: { dryRun?: boolean } = {}): Promise<ApplyOutcome[]> {
  try {
    return await withinTransaction(db, (tx) =>
      tx.savepoint(async (sp) => {
        const outcomes: ApplyOutcome[] = [];
        for (const plan of catalog.plans) {
          const { version, created } = await publishPlanVersion(sp, plan, actor);
          outcomes.push({ code: plan.code, versionId: version.id, created });
        }
        if (opts.dryRun) throw new DryRunRollback(outcomes);
        return outcomes;
      }),
    );
  } catch (err) {
    if (err instanceof DryRunRollback) return err.outcomes;
    throw err;
  }
}

