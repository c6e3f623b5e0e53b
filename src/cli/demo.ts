/**
 * `npm run cli -- demo`: one period of the demo team, end to end, on the running `npm start`. The
 * demo app reports usage through the public API; the operator advances the team's test clock across
 * the period end (POST /admin/test-clocks/{id}/advance, which answers once the close has run); the
 * command then prints the invoice the close wrote, its ledger transactions and a Temporal UI link to
 * the close workflow. Each run closes the next period. Exit codes: 65 refused by the api, 69 the demo
 * team is not ready (see npm start's output).
 */
import { Client, Connection } from '@temporalio/client';
import { appApi, type AppApi } from '../dev/app-api.js';
import { findDemoSubscription, findDemoTeam } from '../dev/demo-team.js';
import { demoUsageEvents, reportDemoUsage } from '../dev/demo-usage.js';
import { DEMO_APP_ID, DEMO_TEAM_ID } from '../dev/seed.js';
import { workflowIds } from '../workflows/ids.js';
import { adminApi, ApiCallError, type AdminApi } from './admin-api.js';
import { advanceClock, type TestClock } from './test-clocks.js';
import { cliEnvironment, need, type CliEnvironment } from './environment.js';

/** The close writes the invoice before the advance answers; this only covers an advance that ran out of time. */
const INVOICE_WAIT_MS = 30_000;

interface Line {
  lineNo: number;
  kind: string;
  description: string;
  quantity: string;
  amount: string;
  amountCharged: string;
  ledgerTransactionId: string | null;
}
interface Invoice {
  invoiceId: string;
  subscriptionId: string;
  periodStart: string;
  periodEnd: string;
  status: string;
  total: string;
  totalCharged: string;
  ledgerTransactionId: string | null;
  lines?: Line[];
}

type Out = (text: string) => void;
class DemoNotReady extends Error {}

async function demoSubscription(admin: AdminApi, app: AppApi) {
  const team = await findDemoTeam(admin);
  if (!team?.testClockId) throw new DemoNotReady(`${DEMO_TEAM_ID} ${team ? 'is not on a test clock (a data folder from an earlier version; start afresh)' : 'does not exist yet'}: see npm start's "Demo team" line`);
  const sub = await findDemoSubscription(app);
  if (!sub || sub.status !== 'active' || !sub.currentPeriodStart || !sub.currentPeriodEnd) throw new DemoNotReady(`${DEMO_TEAM_ID} has no active subscription yet: see npm start's "Demo team" line`);
  return { testClockId: team.testClockId, sub: { ...sub, currentPeriodStart: sub.currentPeriodStart, currentPeriodEnd: sub.currentPeriodEnd } };
}

/** The invoice of the period that began at `periodStart`, with its lines. */
async function closedInvoice(app: AppApi, subscriptionId: string, periodStart: string): Promise<Invoice> {
  const read = { scopes: ['billing:read'], teamId: DEMO_TEAM_ID };
  const deadline = Date.now() + INVOICE_WAIT_MS;
  for (;;) {
    const { invoices } = await app.call<{ invoices: Invoice[] }>('GET', `/v1/teams/${DEMO_TEAM_ID}/invoices?limit=5`, read);
    const found = invoices.find((i) => i.subscriptionId === subscriptionId && i.periodStart === periodStart);
    if (found) return app.call<Invoice>('GET', `/v1/teams/${DEMO_TEAM_ID}/invoices/${found.invoiceId}`, read);
    if (Date.now() > deadline) throw new Error(`No invoice of the period from ${periodStart} after ${INVOICE_WAIT_MS / 1000}s; see the Temporal UI`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A link to the close in the Temporal Web UI: its run when Temporal tells it, else the workflow id's page. */
async function closeWorkflowLink(env: CliEnvironment, workflowId: string): Promise<string> {
  const ui = env.temporalUiUrl ?? '(the Temporal UI of your cluster)';
  const base = `${ui}/namespaces/${encodeURIComponent(env.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
  if (!env.temporalAddress) return base;
  const connection = await Connection.connect({ address: env.temporalAddress, connectTimeout: 5_000 }).catch(() => null);
  if (!connection) return base;
  try {
    const { runId } = await new Client({ connection, namespace: env.temporalNamespace }).workflow.getHandle(workflowId).describe();
    return `${base}/${runId}/history`;
  } catch {
    return base;
  } finally {
    await connection.close();
  }
}

function printInvoice(out: Out, invoice: Invoice, link: string): void {
  out(`\nInvoice ${invoice.invoiceId} (${invoice.status}) of the period ${invoice.periodStart} → ${invoice.periodEnd}\n`);
  const rows = (invoice.lines ?? []).map((l) => [String(l.lineNo), l.kind, l.description, l.quantity, l.amount, l.amountCharged, l.ledgerTransactionId ?? '-']);
  const header = ['#', 'kind', 'description', 'quantity', 'amount', 'charged', 'ledger transaction'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = new Set([3, 4, 5]);
  for (const r of [header, ...rows]) out(`  ${r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()}\n`);
  out(`  Total ${invoice.total} USD at ledger scale; charged $${invoice.totalCharged} (each line rounded to cents, then summed)\n`);
  out(`  Ledger transaction of the invoice: ${invoice.ledgerTransactionId ?? '(not posted)'}\n`);
  out(`  Close workflow in the Temporal UI: ${link}\n`);
}

/** One demo round: usage at the clock's time, the preview, the clock across the period end, the invoice. */
async function runDemo(env: CliEnvironment, out: Out): Promise<void> {
  const admin = adminApi(env);
  const app = appApi({ baseUrl: env.apiUrl, appId: DEMO_APP_ID, secret: need(env.demoAppSecret, "the demo app's secret (npm start's dev state)", env) });
  const { testClockId, sub } = await demoSubscription(admin, app);
  const clock = (await admin.call<TestClock>('GET', `/admin/test-clocks/${testClockId}`)).body;
  const { invoices } = await app.call<{ invoices: unknown[] }>('GET', `/v1/teams/${DEMO_TEAM_ID}/invoices?limit=100`, { scopes: ['billing:read'], teamId: DEMO_TEAM_ID });
  out(`${DEMO_TEAM_ID} on ${sub.planVersionId}; test clock ${testClockId} at ${clock.frozenTime}; period ${sub.currentPeriodStart} → ${sub.currentPeriodEnd}\n`);

  // Halfway through the period first: the storage reported there holds for half of it (GB-month).
  const halfway = new Date((Date.parse(sub.currentPeriodStart) + Date.parse(sub.currentPeriodEnd)) / 2).toISOString();
  const at = Date.parse(clock.frozenTime) < Date.parse(halfway) ? (await advanceClock(admin, testClockId, halfway)).testClock.frozenTime : clock.frozenTime;
  const reported = await reportDemoUsage(app, demoUsageEvents(invoices.length + 1, at, `demo-${sub.currentPeriodStart}`));
  out(`  usage reported by ${DEMO_APP_ID} at ${at}: ${reported.accepted} accepted, ${reported.duplicate} already counted${reported.refused.length ? `, refused: ${reported.refused.join(', ')}` : ''}\n`);
  const preview = await app.call<{ totalCharged: string }>('GET', `/v1/teams/${DEMO_TEAM_ID}/invoices/upcoming`, { scopes: ['billing:read'], teamId: DEMO_TEAM_ID });
  out(`  upcoming invoice if the period closed now: $${preview.totalCharged}\n`);

  const advance = await advanceClock(admin, testClockId, sub.currentPeriodEnd);
  out(`  clock advanced to ${advance.testClock.frozenTime}: ${advance.settled ? 'settled' : `NOT settled (busy: ${advance.busy.join(', ')})`} in ${(advance.elapsedMs / 1000).toFixed(1)} s\n`);

  const invoice = await closedInvoice(app, sub.subscriptionId, sub.currentPeriodStart);
  printInvoice(out, invoice, await closeWorkflowLink(env, workflowIds.period(sub.subscriptionId, sub.currentPeriodStart)));
  out(`\nThe close now waits for Stripe's invoice: npm run cli -- stripe pay-invoice ${DEMO_TEAM_ID} (or fail-payment) plays Stripe's side.\n`);
  out(`The next period: npm run cli -- demo\n`);
}

export async function demoCommand(args: string[], io: { env?: CliEnvironment; out?: Out; err?: Out } = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  if (args.length > 0) {
    err('usage: npm run cli -- demo\n');
    return 64;
  }
  try {
    await runDemo(io.env ?? cliEnvironment(), out);
    return 0;
  } catch (e) {
    if (e instanceof DemoNotReady) {
      err(`${e.message}\n`);
      return 69; // EX_UNAVAILABLE
    }
    if (!(e instanceof ApiCallError)) throw e;
    err(`refused: ${e.message}\n`);
    return 65;
  }
}
