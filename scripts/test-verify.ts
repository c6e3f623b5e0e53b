/**
 * The ledger verification step of `npm test`: recomputes every balance and invariant of the ledger
 * the suite wrote. Counted as one more check in the summary line.
 */
import { createSql } from '../src/shared/db.js';
import { formatReport, verifyLedger } from '../src/ledger/verify.js';

export async function runLedgerVerification(adminDbUrl: string): Promise<{ ok: boolean; summary: string }> {
  const sql = createSql(adminDbUrl, { applicationName: 'billing-test-verify', max: 1 });
  try {
    const report = await verifyLedger(sql);
    return { ok: report.ok, summary: formatReport(report) };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
