/**
 * Postgres access (postgres.js). Every option is stated rather than left to library defaults.
 * int8 columns come back as `bigint` (money in minor units); numeric columns come back as strings,
 * which go straight into decimal.js, so no money value is ever a float.
 */
import postgres from 'postgres';

export type Sql = postgres.Sql<{ bigint: bigint }>;
export type TxSql = postgres.TransactionSql<{ bigint: bigint }>;
/** Either a pool or an open transaction: ledger and usage code accept both. */
export type Queryable = Sql | TxSql;

export interface SqlOptions {
  /** Shown in pg_stat_activity, so an operator can tell the api from the worker. */
  applicationName: string;
  max: number;
}

export function createSql(url: string, opts: SqlOptions): Sql {
  return postgres(url, {
    max: opts.max,
    idle_timeout: 30,
    connect_timeout: 10,
    max_lifetime: 60 * 30,
    prepare: true,
    types: { bigint: postgres.BigInt },
    connection: { application_name: opts.applicationName },
    onnotice: () => {},
  }) as unknown as Sql;
}

const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
export const TX_RETRY_ATTEMPTS_MAX = 5;

export function sqlState(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/**
 * Runs `fn` in a transaction, retrying a bounded number of times when Postgres aborts it for a
 * serialization failure or a deadlock. Callers lock in a fixed order, so retries are rare; the bound
 * keeps a bug from spinning forever.
 */
export async function inTransaction<T>(sql: Sql, fn: (tx: TxSql) => Promise<T>): Promise<T> {
  return retryTransient(async () => (await sql.begin((tx) => fn(tx as TxSql))) as T);
}

/**
 * Runs `fn` (one whole database transaction, e.g. a single autocommit statement) again, a bounded
 * number of times, when Postgres aborted it for a serialization failure or a deadlock.
 */
export async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= TX_RETRY_ATTEMPTS_MAX || !RETRYABLE_SQLSTATES.has(sqlState(err) ?? '')) throw err;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
    }
  }
}

/** Whether `sql` is an open transaction (someone else commits) rather than a pool. */
export function isTransaction(sql: Queryable): sql is TxSql {
  return typeof (sql as Partial<TxSql>).savepoint === 'function';
}

/** Runs `fn` in the caller's transaction when given one, else in a new one (with inTransaction's retries). */
export function withinTransaction<T>(db: Queryable, fn: (tx: TxSql) => Promise<T>): Promise<T> {
  return isTransaction(db) ? fn(db) : inTransaction(db as Sql, fn);
}
