/**
 * Crash safety of period closes: the real worker process is SIGKILLed at random points while 20
 * period closes run (10 subscriptions × 2 periods) and restarted each time. Afterwards every period
 * is invoiced exactly once, posted to the ledger once, and every Stripe call that was repeated was
 * repeated with the same idempotency key and the same payload.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/verify.js';
import { adminSql, services, testApi, TEST_TIMING, until } from '../helpers/context.js';
import { billingTeam, publishPlan, reportTokens, teamPlan, uniqueCode } from '../helpers/billing-scenario.js';
import { startStripeRecorder } from '../helpers/stripe-recorder.js';
import { StripeSimulator } from '../helpers/stripe-simulator.js';
import { sendEvent } from '../helpers/stripe-webhooks.js';
import { spawnWorker, stopWorker } from '../helpers/worker-process.js';

const SUBSCRIPTIONS = 10;
const PERIODS = 2;
/** SIGKILLs, 2–6 s apart: each costs in-flight activities their start-to-close timeout. */
const KILLS = Number(process.env.CRASH_TEST_KILLS ?? 6);
const STRIPE_LATENCY_MS = 400;

describe('period closes under worker crashes', () => {
  it('invoices every period exactly once, with the same idempotency keys on every retry', async () => {
    const taskQueue = `crash-${randomBytes(4).toString('hex')}`;
    const api = await testApi({ taskQueue, timing: { ...TEST_TIMING, periodMs: 8_000 } });
    // A slow Stripe (this worker's own recorder adds latency) so that kills land mid-call.
    const slowStripe = await startStripeRecorder(services.stripeRecorderUrl, { latencyMs: STRIPE_LATENCY_MS });
    const spawn = () => spawnWorker(services, taskQueue, { stripeApiUrl: slowStripe.url });
    let worker: ChildProcess = spawn();
    const teamIds: string[] = [];
    const sim = new StripeSimulator(
      adminSql(),
      slowStripe.url,
      async (event) => {
        const res = await sendEvent(api, event);
        if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
      },
      { teamIds: () => teamIds },
    );
    const simulation = sim.run(200);
    try {
      const planCode = uniqueCode('crash');
      await publishPlan(api, teamPlan(planCode));
      const teams = await Promise.all(Array.from({ length: SUBSCRIPTIONS }, () => billingTeam(api)));
      teamIds.push(...teams.map((t) => t.teamId));
      const subscriptionIds: string[] = [];
      for (const team of teams) {
        const res = await api.request('POST', `/v1/teams/${team.teamId}/checkout`, {
          token: await team.token(),
          headers: { 'idempotency-key': `co-${team.teamId}` },
          body: { planCode, seats: 4, successUrl: 'https://x.example/ok', cancelUrl: 'https://x.example/no' },
        });
        expect(res.status).toBe(201);
        subscriptionIds.push(((await res.json()) as { subscriptionId: string }).subscriptionId);
        await reportTokens(api, team, 40_000, 5);
      }
      await until(async () => (await adminSql()`select 1 from subscriptions where id = any(${subscriptionIds}) and status = 'active'`).length === SUBSCRIPTIONS, {
        what: 'all subscriptions active',
        timeoutMs: 60_000,
      });

      // Kill the worker at random points while the closes run, then let the last one finish them.
      // Subscriptions whose first PERIODS periods are invoiced and paid.
      const settled = async () =>
        Number(
          (
            await adminSql()<{ n: number }[]>`
              select count(*)::int as n from (
                select subscription_id, count(*) filter (where status = 'paid' and rank <= ${PERIODS}) as paid
                from (select subscription_id, status, rank() over (partition by subscription_id order by period_start) as rank
                      from invoices where subscription_id = any(${subscriptionIds})) ranked
                group by subscription_id) s
              where paid = ${PERIODS}`
          )[0]!.n,
        );
      let kills = 0;
      let killsMidCall = 0;
      while (kills < KILLS && (await settled()) < SUBSCRIPTIONS) {
        await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 3_000));
        // Every other kill waits for a Stripe call in flight, so some land mid-call.
        if (kills % 2 === 0) await until(async () => slowStripe.inFlight() > 0, { what: 'a Stripe call in flight', timeoutMs: 15_000 }).catch(() => undefined);
        if (slowStripe.inFlight() > 0) killsMidCall++;
        worker.kill('SIGKILL');
        kills++;
        await new Promise((r) => setTimeout(r, 200));
        worker = spawn();
      }
      await until(async () => (await settled()) === SUBSCRIPTIONS, { what: `${SUBSCRIPTIONS * PERIODS} paid closes`, timeoutMs: 150_000 });
      expect(kills).toBeGreaterThanOrEqual(3);

      // Exactly once: one invoice per (subscription, period), each with one ledger posting.
      const invoices = await adminSql()<{ id: string; subscription_id: string; period_start: Date; ledger_transaction_id: string | null; status: string }[]>`
        select id, subscription_id, period_start, ledger_transaction_id, status from invoices where subscription_id = any(${subscriptionIds}) order by subscription_id, period_start`;
      const firstTwo = subscriptionIds.flatMap((id) => invoices.filter((i) => i.subscription_id === id).slice(0, PERIODS));
      expect(firstTwo).toHaveLength(SUBSCRIPTIONS * PERIODS);
      expect(firstTwo.every((i) => i.status === 'paid' && i.ledger_transaction_id)).toBe(true);
      const postings = await adminSql()<{ key: string; n: number }[]>`
        select idempotency_key as key, count(*)::int as n from ledger_transactions
        where scope in ('invoice', 'invoice-payment') and idempotency_key = any(${invoices.map((i) => i.id)}) group by scope, idempotency_key`;
      expect(postings.every((p) => p.n === 1)).toBe(true);
      expect(postings.length).toBeGreaterThanOrEqual(2 * SUBSCRIPTIONS * PERIODS);

      // Same key, same request: every repeated Stripe call repeated the first one exactly.
      const calls = slowStripe.requests;
      const byKey = new Map<string, Set<string>>();
      for (const c of calls) if (c.idempotencyKey) byKey.set(c.idempotencyKey, (byKey.get(c.idempotencyKey) ?? new Set()).add(`${c.method} ${c.path} ${c.body}`));
      const divergent = [...byKey.entries()].filter(([, bodies]) => bodies.size > 1);
      expect(divergent).toEqual([]);
      // One invoice item per pushed line, one key each: no line went to Stripe under two keys.
      for (const invoice of firstTwo) {
        const itemKeys = [...byKey.keys()].filter((k) => k.startsWith(`invoice-item:${invoice.id}:`));
        const [lines] = await adminSql()<{ n: number }[]>`
          select count(*)::int as n from invoice_lines where invoice_id = ${invoice.id} and push_to_stripe and amount_cents <> 0`;
        expect(itemKeys).toHaveLength(lines!.n);
      }
      const repeated = calls.filter((c) => c.idempotencyKey).length - byKey.size;
      console.info(`period-close crash: ${kills} kills (${killsMidCall} during a Stripe call), ${firstTwo.length} closes, ${calls.length} Stripe requests, ${repeated} repeated with the same key`);

      const report = await verifyLedger(adminSql());
      expect(report.ok).toBe(true);
    } finally {
      await simulation.stop();
      await stopWorker(worker);
      await new Promise<void>((r) => slowStripe.server.close(() => r()));
    }
  }, 240_000);
});
