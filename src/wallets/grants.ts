/**
 * Giving credit (operator grants now; purchases and plan allowances later) and letting it expire.
 * Both run under the wallet's lock and post one ledger transaction per grant or expiry.
 */
import { randomUUID } from 'node:crypto';
import { postTransactions } from '../ledger/post.js';
import { audit } from '../platform/apps.js';
import { requestHash } from '../shared/crypto.js';
import { inTransaction, type Sql, type TxSql } from '../shared/db.js';
import { AppError, idempotencyConflict } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import type { PostRequest } from '../ledger/contract.js';
import { accountOfSource, grantByKey, insertGrant, openGrantCount, openGrants, takeFromGrants, walletsWithDueGrants, type GrantRow, type GrantSource } from './grant-store.js';
import { expiryPosting, grantPosting } from './wallet-ledger.js';
import { lockWallet, settleOverdraft, teamCurrency } from './wallet-store.js';
import { noteBalance } from './balance-notices.js';

export interface GrantInput {
  teamId: string;
  source: GrantSource;
  /** > 0, ≤ LIMITS.walletAmountMinorMax, at the currency's ledger scale. */
  amountMinor: bigint;
  /** Lower is spent first; default LIMITS.walletGrantPriorityDefault. */
  priority?: number | undefined;
  expiresAt?: Date | null | undefined;
  reason: string;
  idempotencyKey: string;
}

/**
 * Grants credit to the team's wallet (in the team's currency). Idempotent by (team, key): a replay
 * returns the grant with `replayed: true`; the same key with another payload is idempotency_conflict.
 * Operator grants are recorded in the audit log as `wallet.grant_created`.
 */
export async function grantCredit(sql: Sql, input: GrantInput, actor: string, now: Date = new Date()): Promise<{ grant: GrantRow; replayed: boolean }> {
  const currency = await teamCurrency(sql, input.teamId);
  const priority = input.priority ?? LIMITS.walletGrantPriorityDefault;
  const expiresAt = input.expiresAt ?? null;
  const hash = requestHash({
    currency,
    source: input.source,
    amountMinor: input.amountMinor,
    priority,
    expiresAt: expiresAt?.toISOString() ?? null,
    reason: input.reason,
  });
  return inTransaction(sql, async (tx) => {
    const wallet = await lockWallet(tx, input.teamId, currency);
    const existing = await grantByKey(tx, input.teamId, input.idempotencyKey);
    if (existing) {
      if (!existing.requestHash.equals(hash)) throw idempotencyConflict(input.idempotencyKey);
      return { grant: existing, replayed: true };
    }
    if ((await openGrantCount(tx, input.teamId, currency)) >= LIMITS.walletOpenGrantsMax) {
      throw new AppError('limit_exceeded', `The wallet already holds ${LIMITS.walletOpenGrantsMax} grants with credit left (LIMITS.walletOpenGrantsMax)`);
    }
    const id = randomUUID();
    const account = accountOfSource(input.source);
    // The team's own money (not promotional credit) first pays back what the overdraft put on its receivable.
    const used = account === 'wallet' ? wallet.overdraftUsedMinor : 0n;
    const overdraftSettledMinor = input.amountMinor < used ? input.amountMinor : used;
    const [posted] = await postTransactions(tx, [
      grantPosting({ id, teamId: input.teamId, currency, source: input.source, account, amountMinor: input.amountMinor, overdraftSettledMinor }, now, actor),
    ]);
    if (overdraftSettledMinor > 0n) await settleOverdraft(tx, input.teamId, currency, overdraftSettledMinor);
    const grant = await insertGrant(
      tx,
      {
        id,
        teamId: input.teamId,
        currency,
        source: input.source,
        account,
        amountMinor: input.amountMinor,
        overdraftSettledMinor,
        priority,
        expiresAt,
        reason: input.reason,
        actor,
        idempotencyKey: input.idempotencyKey,
        requestHash: hash,
        ledgerTransactionId: posted!.transactionId,
      },
      now,
    );
    await noteBalance(tx, wallet, `grant:${id}`, now);
    await audit(tx, actor, 'wallet.grant_created', input.teamId, {
      grantId: id,
      currency,
      source: input.source,
      amountMinor: input.amountMinor.toString(),
      overdraftSettledMinor: overdraftSettledMinor.toString(),
      priority,
      expiresAt: expiresAt?.toISOString() ?? null,
      reason: input.reason,
    });
    return { grant, replayed: false };
  });
}

/**
 * The expiry postings of a locked wallet's grants that are due at `now`, and what to apply once they
 * are posted. Callers post them in the same ledger call as their own posting (one call per database
 * transaction keeps the ledger's lock order).
 */
export async function dueExpiries(tx: TxSql, teamId: string, currency: string, now: Date): Promise<{ requests: PostRequest[]; grants: GrantRow[] }> {
  const due = (await openGrants(tx, teamId, currency)).filter((g) => g.expiresAt !== null && g.expiresAt.getTime() <= now.getTime());
  return { requests: due.map(expiryPosting), grants: due };
}

/** Marks expired grants as emptied by their posted expiry transactions (same order as dueExpiries). */
export async function applyExpiries(tx: TxSql, grants: readonly GrantRow[], transactionIds: readonly string[]): Promise<void> {
  for (const [i, g] of grants.entries()) {
    await takeFromGrants(tx, transactionIds[i]!, 'expiry', [{ grantId: g.id, amountMinor: g.remainingMinor }], g.expiresAt);
  }
}

/** Expires one wallet's due grants under its lock; returns how many expired. */
async function expireWallet(sql: Sql, teamId: string, currency: string, now: Date): Promise<number> {
  return inTransaction(sql, async (tx) => {
    const wallet = await lockWallet(tx, teamId, currency);
    const { requests, grants } = await dueExpiries(tx, teamId, currency, now);
    if (requests.length === 0) return 0;
    const posted = await postTransactions(tx, requests);
    await applyExpiries(tx, grants, posted.map((p) => p.transactionId));
    await noteBalance(tx, wallet, `expiry:${posted[0]!.transactionId}`, now);
    return grants.length;
  });
}

/** Wallets swept per call of expireDueGrants; a caller loops while it returns a full count. */
export const EXPIRY_SWEEP_WALLETS_MAX = 100;

/**
 * Moves the unused remainder of every grant whose expiry has come (expires_at ≤ now) out through the
 * ledger, effective at its exact expiry time. Idempotent: a grant is emptied once, under its wallet's
 * lock, and its posting is keyed `expire:<grantId>`, so a rerun or a concurrent run expires nothing twice.
 * Debits and holds do not wait for the sweep: they never spend an expired grant.
 */
export async function expireDueGrants(sql: Sql, now: Date = new Date()): Promise<{ wallets: number; grants: number }> {
  const wallets = await walletsWithDueGrants(sql, now, EXPIRY_SWEEP_WALLETS_MAX);
  let grants = 0;
  for (const w of wallets) grants += await expireWallet(sql, w.teamId, w.currency, now);
  return { wallets: wallets.length, grants };
}
