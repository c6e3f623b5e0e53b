/** `usage fold-cogs`: post the queued COGS of ingested batches to the ledger now (src/usage/cogs-fold.ts). */
import { foldCogs } from '../usage/cogs-fold.js';
import { withOwnerSql } from './database.js';

export async function usageCommand(args: string[]): Promise<number> {
  if (args.join(' ') !== 'fold-cogs') {
    process.stderr.write('usage: npm run cli -- usage fold-cogs\n');
    return 64;
  }
  return withOwnerSql(async (sql) => {
    const { postingSeq, providers } = await foldCogs(sql, 'cli');
    process.stdout.write(postingSeq === null ? 'nothing queued\n' : `posted cogs:${postingSeq} (${providers.join(', ')})\n`);
    return 0;
  });
}
