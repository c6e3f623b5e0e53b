/**
 * Turns posting requests into what ledger_post() takes: validated (every bad field named), legs
 * resolved to their account shard, and each request hashed canonically so a replay can be told from
 * a conflicting reuse of its key.
 */
import { randomUUID } from 'node:crypto';
import { requestHash, sha256 } from '../shared/crypto.js';
import { validationError, type FieldError } from '../shared/errors.js';
import { LIMITS } from '../shared/limits.js';
import { LEDGER_SCALE } from '../shared/money.js';
import type { AccountSpec, Leg, PostRequest, Side } from './contract.js';

/** A leg whose shard may already be fixed (a reversal hits exactly the rows of its original). */
export type InternalLeg = Leg & { shard?: number };
export type InternalRequest = Omit<PostRequest, 'legs'> & { legs: InternalLeg[]; reversesId?: string };

export interface ResolvedLeg {
  account: Required<AccountSpec>;
  side: Side;
  amountMinor: bigint;
  shard: number;
}

export interface PreparedRequest {
  /** UUIDv7 this call proposes; the stored one wins when the key was posted before. */
  id: string;
  scope: string;
  idempotencyKey: string;
  code: string;
  effectiveAt: Date;
  reversesId: string | null;
  metadata: Record<string, unknown>;
  provenance: NonNullable<PostRequest['provenance']>;
  legs: ResolvedLeg[];
  requestHash: string;
}

/** Records one bad field (path, message). */
type Complain = (path: string, message: string) => void;

const SCOPE_RE = /^[a-z][a-z0-9_.-]{0,63}$/;
const CODE_RE = /^[a-z][a-z0-9_]{0,63}$/;
const ACCOUNT_CODE_RE = /^[a-z][a-z_]*(:[A-Za-z0-9_.-]+)+$/;
const ACCOUNT_CODE_LENGTH_MAX = 200;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHARDS_MAX = 256;
const INT8_MAX = 2n ** 63n - 1n;
const KINDS = new Set(['asset', 'liability', 'equity', 'revenue', 'expense']);
const OWNER_TYPES = new Set(['team', 'app', 'provider', 'system']);

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/**
 * Time-ordered (RFC 9562 v7), so new transaction ids land at the right edge of their index: the
 * millisecond clock in the first 48 bits, then 74 random bits (and the variant) of a v4 UUID, which
 * Node draws from a pooled buffer rather than a call into the random generator per id.
 */
function uuidV7(): string {
  const r = randomUUID();
  const ms = Date.now().toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${r.slice(15, 18)}-${r.slice(19)}`;
}

/** The shard a key maps to: stable across processes and releases (sha256, not a runtime hash). */
export function shardFor(key: string, shards: number): number {
  if (shards === 1) return 0;
  return sha256(key).readUInt32BE(0) % shards;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function checkAccount(spec: AccountSpec, path: string, bad: Complain): void {
  if (typeof spec.code !== 'string' || !ACCOUNT_CODE_RE.test(spec.code) || spec.code.length > ACCOUNT_CODE_LENGTH_MAX) {
    bad(`${path}.code`, 'must look like purpose:part[:part…] (letters, digits, _ . -), at most 200 characters');
  }
  if (!KINDS.has(spec.kind)) bad(`${path}.kind`, 'must be asset, liability, equity, revenue or expense');
  if (LEDGER_SCALE[spec.currency] === undefined) bad(`${path}.currency`, `must be one of ${Object.keys(LEDGER_SCALE).join(', ')}`);
  if (!OWNER_TYPES.has(spec.ownerType)) bad(`${path}.ownerType`, 'must be team, app, provider or system');
  else if ((spec.ownerType === 'system') !== (spec.ownerId === null)) bad(`${path}.ownerId`, 'is null exactly for system accounts');
  else if (spec.ownerId !== null && (typeof spec.ownerId !== 'string' || spec.ownerId.length === 0)) bad(`${path}.ownerId`, 'must be a non-empty string');
  const shards = spec.shards ?? 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > SHARDS_MAX) bad(`${path}.shards`, `must be an integer from 1 to ${SHARDS_MAX}`);
  for (const field of ['minBalanceMinor', 'maxBalanceMinor'] as const) {
    const v = spec[field];
    if (v !== null && typeof v !== 'bigint') bad(`${path}.${field}`, 'must be a bigint or null');
    else if (v !== null && shards !== 1) bad(`${path}.${field}`, 'a limited account cannot be sharded');
  }
  if (typeof spec.minBalanceMinor === 'bigint' && typeof spec.maxBalanceMinor === 'bigint' && spec.minBalanceMinor > spec.maxBalanceMinor) {
    bad(`${path}.maxBalanceMinor`, 'must not be below minBalanceMinor');
  }
}

function normalizeAccount(spec: AccountSpec): Required<AccountSpec> {
  return {
    code: spec.code,
    kind: spec.kind,
    currency: spec.currency,
    ownerType: spec.ownerType,
    ownerId: spec.ownerId,
    minBalanceMinor: spec.minBalanceMinor,
    maxBalanceMinor: spec.maxBalanceMinor,
    shards: spec.shards ?? 1,
  };
}

/** Whether two definitions of one account code agree on everything but the code. */
export function sameAccount(a: Required<AccountSpec>, b: Required<AccountSpec>): boolean {
  return (
    a.kind === b.kind &&
    a.currency === b.currency &&
    a.ownerType === b.ownerType &&
    a.ownerId === b.ownerId &&
    a.shards === b.shards &&
    a.minBalanceMinor === b.minBalanceMinor &&
    a.maxBalanceMinor === b.maxBalanceMinor
  );
}

/** Names every bad field of one request; `seen` spans the batch (keys, and each account's definition). */
function checkRequest(r: InternalRequest, at: string, bad: Complain, seen: { keys: Set<string>; specs: Map<string, Required<AccountSpec>> }): void {
  if (typeof r.scope !== 'string' || !SCOPE_RE.test(r.scope)) bad(`${at}.scope`, 'must be 1–64 of a-z 0-9 _ . - starting with a letter');
  if (typeof r.idempotencyKey !== 'string' || r.idempotencyKey.length === 0 || r.idempotencyKey.length > LIMITS.idempotencyKeyLengthMax) {
    bad(`${at}.idempotencyKey`, `must be 1–${LIMITS.idempotencyKeyLengthMax} characters`);
  } else if (seen.keys.has(`${r.scope}\u0000${r.idempotencyKey}`)) bad(`${at}.idempotencyKey`, 'appears twice in the batch');
  seen.keys.add(`${r.scope}\u0000${r.idempotencyKey}`);
  if (typeof r.code !== 'string' || !CODE_RE.test(r.code)) bad(`${at}.code`, 'must be 1–64 of a-z 0-9 _ starting with a letter');
  if (!(r.effectiveAt instanceof Date) || Number.isNaN(r.effectiveAt.getTime())) bad(`${at}.effectiveAt`, 'must be a valid Date');
  if (r.metadata !== undefined && !isPlainObject(r.metadata)) bad(`${at}.metadata`, 'must be a plain object');
  if (r.reversesId !== undefined && !isUuid(r.reversesId)) bad(`${at}.reversesId`, 'must be a transaction id (uuid)');
  const legs: readonly InternalLeg[] = r.legs;
  if (!Array.isArray(legs as unknown) || legs.length < 2 || legs.length > LIMITS.ledgerLegsPerTransactionMax) {
    bad(`${at}.legs`, `must hold 2–${LIMITS.ledgerLegsPerTransactionMax} legs (LIMITS.ledgerLegsPerTransactionMax)`);
    return;
  }
  let legsValid = true;
  const legBad: Complain = (path, message) => {
    legsValid = false;
    bad(path, message);
  };
  const netByCurrency = new Map<string, bigint>();
  legs.forEach((leg, j) => {
    const lat = `${at}.legs.${j}`;
    if (leg.side !== 'debit' && leg.side !== 'credit') legBad(`${lat}.side`, 'must be debit or credit');
    if (typeof leg.amountMinor !== 'bigint' || leg.amountMinor <= 0n || leg.amountMinor > INT8_MAX) {
      legBad(`${lat}.amountMinor`, 'must be a bigint above 0 that fits in int8');
    }
    if (leg.shardKey !== undefined && (typeof leg.shardKey !== 'string' || leg.shardKey.length === 0)) legBad(`${lat}.shardKey`, 'must be a non-empty string');
    if (!isPlainObject(leg.account)) return legBad(`${lat}.account`, 'must be an AccountSpec');
    checkAccount(leg.account, `${lat}.account`, legBad);
    const spec = normalizeAccount(leg.account);
    const earlier = seen.specs.get(spec.code);
    if (earlier !== undefined && !sameAccount(earlier, spec)) legBad(`${lat}.account`, `account ${spec.code} appears with two different definitions`);
    seen.specs.set(spec.code, spec);
    if (typeof leg.amountMinor === 'bigint') {
      const signed = leg.side === 'debit' ? leg.amountMinor : -leg.amountMinor;
      netByCurrency.set(leg.account.currency, (netByCurrency.get(leg.account.currency) ?? 0n) + signed);
    }
  });
  // Whether the legs balance only means something once each leg is valid.
  if (!legsValid) return;
  for (const [currency, net] of netByCurrency) {
    if (net !== 0n) bad(`${at}.legs`, `debits and credits in ${currency} differ by ${net} minor units`);
  }
}

/**
 * Validates a batch and prepares each request. Throws validation_failed naming every bad field
 * (paths like `requests.2.legs.0.amountMinor`); nothing is written for a bad batch.
 */
export function prepareRequests(requests: readonly InternalRequest[]): PreparedRequest[] {
  const fields: FieldError[] = [];
  const bad: Complain = (path, message) => fields.push({ path, message });
  if (!Array.isArray(requests) || requests.length === 0) bad('requests', 'must hold at least one request');
  else if (requests.length > LIMITS.ledgerPostBatchMax) bad('requests', `must hold at most ${LIMITS.ledgerPostBatchMax} requests (LIMITS.ledgerPostBatchMax)`);
  const seen = { keys: new Set<string>(), specs: new Map<string, Required<AccountSpec>>() };
  (Array.isArray(requests) ? requests : []).forEach((r, i) => checkRequest(r, `requests.${i}`, bad, seen));
  if (fields.length > 0) throw validationError(fields, 'The ledger posting is not valid');

  return requests.map((r) => {
    const legs = r.legs.map((leg) => {
      const account = normalizeAccount(leg.account);
      return { account, side: leg.side, amountMinor: leg.amountMinor, shard: leg.shard ?? shardFor(leg.shardKey ?? r.idempotencyKey, account.shards) };
    });
    const metadata = r.metadata ?? {};
    const reversesId = r.reversesId ?? null;
    // The payload a replay must match: everything that decides what is written, not who sent it.
    const hash = requestHash({
      scope: r.scope,
      idempotencyKey: r.idempotencyKey,
      code: r.code,
      effectiveAt: r.effectiveAt.toISOString(),
      reversesId,
      metadata,
      legs,
    }).toString('hex');
    return {
      id: uuidV7(),
      scope: r.scope,
      idempotencyKey: r.idempotencyKey,
      code: r.code,
      effectiveAt: r.effectiveAt,
      reversesId,
      metadata,
      provenance: r.provenance ?? {},
      legs,
      requestHash: hash,
    };
  });
}

/** An account as ledger_post() takes it (also what usage_post_cogs() passes on to it). */
export function accountArgument(spec: AccountSpec): Record<string, unknown> {
  const a = normalizeAccount(spec);
  return {
    code: a.code,
    kind: a.kind,
    currency: a.currency,
    owner_type: a.ownerType,
    owner_id: a.ownerId,
    shards: a.shards,
    min_balance_minor: a.minBalanceMinor?.toString() ?? null,
    max_balance_minor: a.maxBalanceMinor?.toString() ?? null,
  };
}

/** The two jsonb arguments of ledger_post(): the accounts used (each once) and the transactions. */
export function postArguments(prepared: readonly PreparedRequest[]): { accounts: string; transactions: string } {
  const accounts = new Map<string, Required<AccountSpec>>();
  for (const p of prepared) for (const leg of p.legs) accounts.set(leg.account.code, leg.account);
  return {
    accounts: JSON.stringify([...accounts.values()].map(accountArgument)),
    transactions: JSON.stringify(
      prepared.map((p, idx) => ({
        idx,
        id: p.id,
        scope: p.scope,
        key: p.idempotencyKey,
        hash: p.requestHash,
        code: p.code,
        effective_at: p.effectiveAt.toISOString(),
        reverses_id: p.reversesId,
        metadata: p.metadata,
        workflow_id: p.provenance.workflowId ?? null,
        run_id: p.provenance.runId ?? null,
        activity: p.provenance.activity ?? null,
        actor: p.provenance.actor ?? null,
        legs: p.legs.map((l) => ({ account: l.account.code, shard: l.shard, side: l.side, amount: l.amountMinor.toString() })),
      })),
      // Metadata may carry amounts; bigints go as decimal strings, as everywhere on the wire.
      (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
    ),
  };
}
