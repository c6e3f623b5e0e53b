-- The ledger: append-only, double-entry, and kept honest by Postgres itself. Money moves only
-- through ledger_post(); triggers refuse every other change, a deferred trigger refuses any
-- transaction whose entries do not balance, and each entry carries the balance before and after it
-- with a gapless per-account version. See src/ledger/post.ts for the calling side.
--
-- Who may do what: billing_app may SELECT the ledger and EXECUTE the two SECURITY DEFINER functions
-- (ledger_post, ledger_record_rejection); it cannot INSERT, UPDATE, DELETE or TRUNCATE any ledger
-- table. The owner role can write, but the triggers below hold for it too.
--
-- Error codes raised here (mapped to the service's vocabulary in src/ledger/post.ts):
--   LG001 idempotency key reused with another payload   LG002 below the account's floor
--   LG003 above the account's ceiling                   LG004 account exists with another definition
--   LG005 key was rejected before                       LG006 not a remembered rejection
--   LG101 append-only table changed                     LG102 unbalanced transaction
--   LG103 entry disagrees with its transaction, account or balance chain

-- Units of account. A scale cannot change once money exists in it, so the table is append-only.
create table ledger_currencies (
  code  text primary key check (code ~ '^[A-Z]{3}$'),
  scale smallint not null check (scale between 0 and 12)
);
insert into ledger_currencies (code, scale) values ('USD', 6), ('EUR', 6), ('GBP', 6);

create type ledger_side as enum ('debit', 'credit');

-- A logical account. Hot system accounts without limits are split into `shards` balance rows
-- (chosen by the caller's shard key) so that concurrent writers do not queue on one row; accounts
-- with a floor or a ceiling keep one authoritative row, because per-shard checks could each pass
-- while their sum breaks the limit.
create table ledger_accounts (
  id                uuid primary key default gen_random_uuid(),
  code              text not null unique check (code ~ '^[a-z][a-z_]*(:[A-Za-z0-9_.-]+)+$' and length(code) <= 200),
  kind              text not null check (kind in ('asset', 'liability', 'equity', 'revenue', 'expense')),
  normal_side       ledger_side not null
                    generated always as (case when kind in ('asset', 'expense') then 'debit'::ledger_side else 'credit'::ledger_side end) stored,
  currency          text not null references ledger_currencies (code),
  owner_type        text not null check (owner_type in ('team', 'app', 'provider', 'system')),
  owner_id          text,
  shards            smallint not null default 1 check (shards between 1 and 256),
  -- In normal-side terms: a wallet (credit-normal) with min 0 can never owe the customer less than nothing.
  min_balance_minor bigint,
  max_balance_minor bigint,
  created_at        timestamptz not null default now(),
  check ((owner_type = 'system') = (owner_id is null)),
  check (min_balance_minor is null or max_balance_minor is null or min_balance_minor <= max_balance_minor),
  check (shards = 1 or (min_balance_minor is null and max_balance_minor is null))
);
create index ledger_accounts_by_owner on ledger_accounts (owner_type, owner_id);

-- The only mutable table: derived state, one row per account shard, changed only by the entry
-- trigger. fillfactor leaves room for HOT updates of the hottest rows.
create table ledger_balances (
  account_id    uuid not null references ledger_accounts (id),
  shard         smallint not null check (shard >= 0),
  balance_minor bigint not null default 0,
  version       bigint not null default 0 check (version >= 0),
  primary key (account_id, shard)
) with (fillfactor = 50);

create table ledger_transactions (
  -- UUIDv7 chosen by the caller's process, so ids are time-ordered and the index stays compact.
  id              uuid primary key,
  -- (scope, idempotency_key) is unique forever; request_hash is what a replay must match.
  scope           text not null check (scope ~ '^[a-z][a-z0-9_.-]{0,63}$'),
  idempotency_key text not null check (length(idempotency_key) between 1 and 255),
  request_hash    bytea not null check (length(request_hash) = 32),
  -- Why money moved: cogs_accrual, invoice_issued, payment_received, reversal, ...
  code            text not null check (code ~ '^[a-z][a-z0-9_]{0,63}$'),
  effective_at    timestamptz not null,
  -- No foreign key: the commit-time check below proves the original exists by matching its legs.
  reverses_id     uuid,
  metadata        jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  workflow_id     text,
  run_id          text,
  activity        text,
  actor           text,
  -- The database transaction that wrote this row: entries may join a ledger transaction only while
  -- it is being written, never after it committed.
  created_xid     xid8 not null default pg_current_xact_id(),
  created_at      timestamptz not null default now(),
  unique (scope, idempotency_key),
  check (reverses_id is null or reverses_id <> id)
);
-- A transaction is reversed at most once, whatever key the reversal comes with.
create unique index ledger_transactions_one_reversal on ledger_transactions (reverses_id) where reverses_id is not null;

-- One leg of a transaction applied to one account shard. No foreign keys: the statement trigger
-- below checks transaction, account and shard for the whole statement at once, which is far
-- cheaper than a referential check per row on a path that writes thousands of rows a second.
create table ledger_entries (
  id                   bigint generated always as identity,
  transaction_id       uuid not null,
  leg_index            smallint not null check (leg_index >= 0),
  account_id           uuid not null,
  shard                smallint not null check (shard >= 0),
  side                 ledger_side not null,
  amount_minor         bigint not null check (amount_minor > 0),
  -- In the account's normal-side terms, like ledger_balances.balance_minor.
  balance_before_minor bigint not null,
  balance_after_minor  bigint not null,
  account_version      bigint not null check (account_version > 0),
  effective_at         timestamptz not null,
  primary key (transaction_id, leg_index),
  -- The per-shard chain: version n follows n - 1, with no gaps (checked against the balance row).
  unique (account_id, shard, account_version)
);
-- Statements and "balance as of" reads by business time.
create index ledger_entries_by_account_time on ledger_entries (account_id, effective_at, id);

-- Business rejections (insufficient funds, over a ceiling) are remembered so that a retry with the
-- same key is rejected the same way, even after the balance would allow it.
create table ledger_rejections (
  scope           text not null,
  idempotency_key text not null,
  request_hash    bytea not null,
  code            text not null,
  message         text not null,
  details         jsonb not null default '{}',
  created_at      timestamptz not null default now(),
  primary key (scope, idempotency_key)
);

---------------------------------------------------------------------------------------------------
-- Append-only: no UPDATE, DELETE or TRUNCATE, for anyone, on anything but balances (below). The
-- trigger functions live in sql/functions/ledger-guards.sql.

create trigger ledger_currencies_append_only before update or delete or truncate on ledger_currencies
  for each statement execute function ledger_forbid_change();
create trigger ledger_accounts_append_only before update or delete or truncate on ledger_accounts
  for each statement execute function ledger_forbid_change();
create trigger ledger_transactions_append_only before update or delete or truncate on ledger_transactions
  for each statement execute function ledger_forbid_change();
create trigger ledger_entries_append_only before update or delete or truncate on ledger_entries
  for each statement execute function ledger_forbid_change();
create trigger ledger_rejections_append_only before update or delete or truncate on ledger_rejections
  for each statement execute function ledger_forbid_change();

create trigger ledger_balances_guard before insert or update or delete or truncate on ledger_balances
  for each statement execute function ledger_guard_balances();

create trigger ledger_accounts_open_balances after insert on ledger_accounts
  for each row execute function ledger_open_balances();

---------------------------------------------------------------------------------------------------
-- Entries: checked as a set and applied to the balance rows, once per statement.

create trigger ledger_entries_apply after insert on ledger_entries
  referencing new table as new_entries
  for each statement execute function ledger_apply_entries();

create constraint trigger ledger_transactions_balanced after insert on ledger_transactions
  deferrable initially deferred
  for each row execute function ledger_check_transaction();

---------------------------------------------------------------------------------------------------
-- Privileges: read everything, write only through the two functions of sql/functions/ledger-post.sql.

grant select on ledger_currencies, ledger_accounts, ledger_balances, ledger_transactions, ledger_entries, ledger_rejections
  to billing_app;
