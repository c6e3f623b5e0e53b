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
-- Append-only: no UPDATE, DELETE or TRUNCATE, for anyone, on anything but balances (below).

create function ledger_forbid_change() returns trigger language plpgsql as $$
begin
  raise exception using
    errcode = 'LG101',
    message = format('%s is append-only: %s is not allowed', tg_table_name, tg_op),
    hint = 'Correct a posting with a reversing transaction.';
end
$$;

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

-- Balances change only under the entry trigger (or when a new account opens its rows), i.e. from
-- inside another trigger. A direct write, even by the owner, is refused.
create function ledger_guard_balances() returns trigger language plpgsql as $$
begin
  if tg_op in ('DELETE', 'TRUNCATE') or pg_trigger_depth() < 2 then
    raise exception using
      errcode = 'LG101',
      message = format('ledger_balances changes only through ledger entries: %s is not allowed', tg_op);
  end if;
  return null;
end
$$;
create trigger ledger_balances_guard before insert or update or delete or truncate on ledger_balances
  for each statement execute function ledger_guard_balances();

-- A new account opens one zero balance row per shard.
create function ledger_open_balances() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, pg_temp as $$
begin
  insert into ledger_balances (account_id, shard) select new.id, s from generate_series(0, new.shards - 1) s;
  return null;
end
$$;
create trigger ledger_accounts_open_balances after insert on ledger_accounts
  for each row execute function ledger_open_balances();

---------------------------------------------------------------------------------------------------
-- Entries: checked as a set and applied to the balance rows, once per statement.

create function ledger_apply_entries() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, pg_temp as $$
declare
  v record;
begin
  with problem as (
    -- The first entry (in insertion order) that is malformed or crosses its account's limit.
    -- Every version is checked, not only the last: a batch may not dip below a floor and come back.
    select e.id, t.scope, t.idempotency_key, a.code as account_code, e.balance_after_minor,
           a.min_balance_minor, a.max_balance_minor,
           case
             when t.id is null then format('entry of unknown transaction %s', e.transaction_id)
             when t.created_xid <> pg_current_xact_id()
               then format('transaction %s is already committed; entries cannot join it', e.transaction_id)
             when a.id is null then format('entry on unknown account %s', e.account_id)
             when e.shard >= a.shards then format('account %s has no shard %s', a.code, e.shard)
             when e.effective_at <> t.effective_at
               then format('entry effective_at differs from its transaction %s', e.transaction_id)
             when e.balance_after_minor <> e.balance_before_minor
                  + case when e.side = a.normal_side then e.amount_minor else -e.amount_minor end
               then format('entry on %s: balance_after is not balance_before %s amount', a.code,
                           case when e.side = a.normal_side then '+' else '-' end)
           end as malformed
    from new_entries e
    left join ledger_transactions t on t.id = e.transaction_id
    left join ledger_accounts a on a.id = e.account_id
    where t.id is null or a.id is null or t.created_xid <> pg_current_xact_id() or e.shard >= a.shards
       or e.effective_at <> t.effective_at
       or e.balance_after_minor <> e.balance_before_minor
          + case when e.side = a.normal_side then e.amount_minor else -e.amount_minor end
       or e.balance_after_minor < a.min_balance_minor or e.balance_after_minor > a.max_balance_minor
    order by e.id
    limit 1
  ), linked as (
    select account_id, shard, account_version, balance_before_minor, balance_after_minor,
           balance_before_minor = lag(balance_after_minor) over w
             and account_version = lag(account_version) over w + 1 as follows_previous
    from new_entries
    window w as (partition by account_id, shard order by account_version)
  ), chains as (
    -- Per account shard, the new entries must continue the stored chain: the first one starts at
    -- the stored version + 1 and balance, each next one where the previous ended, without gaps.
    select account_id, shard, count(*) as n, min(account_version) as first_version,
           max(account_version) as last_version,
           (array_agg(balance_before_minor order by account_version))[1] as first_before,
           (array_agg(balance_after_minor order by account_version desc))[1] as last_after,
           bool_and(follows_previous) is not false as unbroken
    from linked
    group by account_id, shard
  ), applied as (
    -- A compare-and-set: a balance row changed by anyone else since the entries were computed no
    -- longer matches, and nothing is applied.
    update ledger_balances b
       set balance_minor = c.last_after, version = c.last_version
      from chains c
     where b.account_id = c.account_id and b.shard = c.shard
       and c.unbroken and c.last_version - c.first_version + 1 = c.n
       and b.version = c.first_version - 1 and b.balance_minor = c.first_before
       and not exists (select 1 from problem)
    returning 1
  )
  select p.*, (select count(*) from chains) as chains, (select count(*) from applied) as applied
    into v
  from (select 1) one left join problem p on true;

  if v.malformed is not null then
    raise exception using errcode = 'LG103', message = v.malformed;
  elsif v.id is not null then
    raise exception using
      errcode = case when v.balance_after_minor < v.min_balance_minor then 'LG002' else 'LG003' end,
      message = format('Account %s would go %s its limit', v.account_code,
                       case when v.balance_after_minor < v.min_balance_minor then 'below' else 'above' end),
      detail = json_build_object(
        'scope', v.scope, 'idempotencyKey', v.idempotency_key, 'accountCode', v.account_code,
        'balanceAfterMinor', v.balance_after_minor::text,
        'minBalanceMinor', v.min_balance_minor::text, 'maxBalanceMinor', v.max_balance_minor::text)::text;
  elsif v.applied <> v.chains then
    raise exception using
      errcode = 'LG103',
      message = 'stale or forged balance chain: entries do not continue the stored balance and version of their account';
  end if;
  return null;
end
$$;
create trigger ledger_entries_apply after insert on ledger_entries
  referencing new table as new_entries
  for each statement execute function ledger_apply_entries();

-- At commit: every transaction has at least two entries, its debits equal its credits in each
-- currency, and a reversal mirrors its original leg for leg (which also proves the original exists).
create function ledger_check_transaction() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, pg_temp as $$
declare
  v_entries bigint;
  v_unbalanced boolean;
  v_unmatched bigint;
begin
  -- The currency is looked up per entry (a subquery, not a join) so that the plan is two index
  -- probes per entry whatever the table statistics say.
  select coalesce(sum(n), 0), coalesce(bool_or(net <> 0), false) into v_entries, v_unbalanced
  from (
    select count(*) as n, sum(case when e.side = 'debit' then e.amount_minor else -e.amount_minor end) as net
    from ledger_entries e
    where e.transaction_id = new.id
    group by (select a.currency from ledger_accounts a where a.id = e.account_id)
  ) per_currency;
  if v_entries < 2 or v_unbalanced then
    raise exception using
      errcode = 'LG102',
      message = format('ledger transaction %s (%s/%s) is unbalanced: %s entries, debits %s credits in some currency',
                       new.id, new.scope, new.idempotency_key, v_entries, case when v_unbalanced then '<>' else '=' end);
  end if;
  if new.reverses_id is not null then
    select count(*) into v_unmatched from (
      (select account_id, shard, side, amount_minor from ledger_entries where transaction_id = new.id
       except all
       select account_id, shard, case side when 'debit' then 'credit'::ledger_side else 'debit'::ledger_side end, amount_minor
       from ledger_entries where transaction_id = new.reverses_id)
      union all
      (select account_id, shard, case side when 'debit' then 'credit'::ledger_side else 'debit'::ledger_side end, amount_minor
       from ledger_entries where transaction_id = new.reverses_id
       except all
       select account_id, shard, side, amount_minor from ledger_entries where transaction_id = new.id)
    ) unmatched;
    if v_unmatched > 0 then
      raise exception using
        errcode = 'LG102',
        message = format('ledger transaction %s does not mirror the transaction %s it reverses', new.id, new.reverses_id);
    end if;
  end if;
  return null;
end
$$;
create constraint trigger ledger_transactions_balanced after insert on ledger_transactions
  deferrable initially deferred
  for each row execute function ledger_check_transaction();

---------------------------------------------------------------------------------------------------
-- The posting path: one call, one round trip, for one or many ledger transactions.
--
-- p_accounts:     [{code, kind, currency, owner_type, owner_id, shards, min_balance_minor, max_balance_minor}]
-- p_transactions: [{idx, id, scope, key, hash (hex sha256), code, effective_at, reverses_id, metadata,
--                   workflow_id, run_id, activity, actor, legs: [{account (code), shard, side, amount}]}]
--                  where idx is the position in the array.
-- Returns one row per entry of every requested transaction: new ones as written, replays as stored.
--
-- Every join below probes a large table with a handful of rows from the call; the planner cannot
-- see that (it assumes 100 rows per jsonb_to_recordset), so hash/merge joins and sequential scans
-- are switched off for this function, and its plans are made once per session.

create function ledger_post(p_accounts jsonb, p_transactions jsonb)
returns table (
  tx_index int, transaction_id uuid, replayed boolean, leg_index smallint, account_code text, shard smallint,
  side ledger_side, amount_minor bigint, balance_before_minor bigint, balance_after_minor bigint, account_version bigint
)
language plpgsql security definer
set search_path = pg_catalog, public, pg_temp
set enable_seqscan = off set enable_hashjoin = off set enable_mergejoin = off
set plan_cache_mode = force_generic_plan
as $$
declare
  v record;
  v_is_new boolean[];  -- null: every request is new (the common case)
  v_replay_idx int[];
  v_replay_ids uuid[];
  v_conflict int;
begin
  -- 1. Unknown accounts, accounts that exist with another definition, and remembered rejections,
  -- in one read. A rejection no longer counts once the key is posted (a posting won the race).
  select
    accounts.missing,
    accounts.mismatched,
    (select jsonb_build_object('scope', r.scope, 'idempotencyKey', r.key, 'code', j.code, 'message', j.message,
                               'details', j.details, 'sameRequest', j.request_hash = decode(r.hash, 'hex'))
       from jsonb_to_recordset(p_transactions) r(scope text, key text, hash text)
       join ledger_rejections j on j.scope = r.scope and j.idempotency_key = r.key
      where not exists (select 1 from ledger_transactions t where t.scope = r.scope and t.idempotency_key = r.key)
      limit 1) as rejected
    into v
  from (
    select count(*) filter (where a.id is null) as missing,
           min(s.code) filter (where (a.kind, a.currency, a.owner_type, a.owner_id, a.shards, a.min_balance_minor, a.max_balance_minor)
                                     is distinct from (s.kind, s.currency, s.owner_type, s.owner_id, s.shards, s.min_balance_minor, s.max_balance_minor)
                                 and a.id is not null) as mismatched
    from jsonb_to_recordset(p_accounts) s(code text, kind text, currency text, owner_type text, owner_id text,
                                          shards smallint, min_balance_minor bigint, max_balance_minor bigint)
    left join ledger_accounts a on a.code = s.code
  ) accounts;

  if v.missing > 0 then
    -- Accounts open on first use, in code order so that concurrent first uses cannot deadlock.
    insert into ledger_accounts (code, kind, currency, owner_type, owner_id, shards, min_balance_minor, max_balance_minor)
    select s.code, s.kind, s.currency, s.owner_type, s.owner_id, s.shards, s.min_balance_minor, s.max_balance_minor
    from jsonb_to_recordset(p_accounts) s(code text, kind text, currency text, owner_type text, owner_id text,
                                          shards smallint, min_balance_minor bigint, max_balance_minor bigint)
    order by s.code
    on conflict (code) do nothing;
    -- Someone else may have opened one of them first, with another definition.
    select s.code into v.mismatched
    from jsonb_to_recordset(p_accounts) s(code text, kind text, currency text, owner_type text, owner_id text,
                                          shards smallint, min_balance_minor bigint, max_balance_minor bigint)
    join ledger_accounts a on a.code = s.code
    where (a.kind, a.currency, a.owner_type, a.owner_id, a.shards, a.min_balance_minor, a.max_balance_minor)
          is distinct from (s.kind, s.currency, s.owner_type, s.owner_id, s.shards, s.min_balance_minor, s.max_balance_minor)
    limit 1;
  end if;
  if v.mismatched is not null then
    raise exception using
      errcode = 'LG004',
      message = format('Account %s already exists with a different definition', v.mismatched),
      detail = json_build_object('accountCode', v.mismatched)::text;
  end if;
  if v.rejected is not null then
    raise exception using
      errcode = case when (v.rejected ->> 'sameRequest')::boolean then 'LG005' else 'LG001' end,
      message = case when (v.rejected ->> 'sameRequest')::boolean then v.rejected ->> 'message'
                     else format('Idempotency key %s/%s was already used with a different payload',
                                 v.rejected ->> 'scope', v.rejected ->> 'idempotencyKey') end,
      detail = (v.rejected - 'sameRequest')::text;
  end if;

  -- 2. Transaction headers, in key order so that batches sharing keys cannot deadlock. A key taken
  -- before (or by a concurrent call that has since committed) inserts nothing.
  with inserted as (
    insert into ledger_transactions (id, scope, idempotency_key, request_hash, code, effective_at, reverses_id, metadata,
                                     workflow_id, run_id, activity, actor)
    select r.id, r.scope, r.key, decode(r.hash, 'hex'), r.code, r.effective_at, r.reverses_id, coalesce(r.metadata, '{}'),
           r.workflow_id, r.run_id, r.activity, r.actor
    from jsonb_to_recordset(p_transactions) r(id uuid, scope text, key text, hash text, code text, effective_at timestamptz,
                                              reverses_id uuid, metadata jsonb, workflow_id text, run_id text,
                                              activity text, actor text)
    order by r.scope, r.key
    on conflict (scope, idempotency_key) do nothing
    returning 1
  )
  select count(*) as posted into v from inserted;

  if v.posted < jsonb_array_length(p_transactions) then
    -- Some keys were taken: the stored row is a replay when its request hash matches, else a conflict.
    select array_agg(t.id = r.id order by r.idx),
           coalesce(array_agg(r.idx) filter (where t.id <> r.id), '{}'),
           coalesce(array_agg(t.id) filter (where t.id <> r.id), '{}'),
           min(r.idx) filter (where t.id <> r.id and t.request_hash <> decode(r.hash, 'hex'))
      into v_is_new, v_replay_idx, v_replay_ids, v_conflict
    from jsonb_to_recordset(p_transactions) r(idx int, id uuid, scope text, key text, hash text)
    join ledger_transactions t on t.scope = r.scope and t.idempotency_key = r.key;
    if v_conflict is not null then
      raise exception using
        errcode = 'LG001',
        message = format('Idempotency key %s/%s was already used with a different payload',
                         p_transactions -> v_conflict ->> 'scope', p_transactions -> v_conflict ->> 'key'),
        detail = json_build_object('scope', p_transactions -> v_conflict ->> 'scope',
                                   'idempotencyKey', p_transactions -> v_conflict ->> 'key')::text;
    end if;
  end if;

  -- 3. Entries of the new transactions. Every balance row they touch is locked first, in one
  -- global order (the legs are sorted, and each locks its row as it is read), so that no two calls,
  -- batches included, can wait on each other in a cycle. Rows of sharded (hot) accounts come last in
  -- that order: a call waiting for a busy wallet then holds no hot row meanwhile. Each leg's balance
  -- before/after and version follow from its locked row plus the legs before it in this call; the
  -- entry trigger re-checks all of it and moves the balance rows. A leg naming an unknown account
  -- or shard yields nulls, which the entries' NOT NULL columns refuse.
  return query
  with legs as (
    select r.idx as tx, (l.n - 1)::smallint as leg, r.id as transaction_id, r.effective_at,
           a.id as account_id, a.code, l.shard, l.side, l.amount,
           case when l.side = a.normal_side then l.amount else -l.amount end as delta
    from jsonb_to_recordset(p_transactions) r(idx int, id uuid, effective_at timestamptz, legs jsonb)
    cross join lateral rows from (jsonb_to_recordset(r.legs) as (account text, shard smallint, side ledger_side, amount bigint))
               with ordinality as l(account, shard, side, amount, n)
    left join ledger_accounts a on a.code = l.account
    where v_is_new is null or v_is_new[r.idx + 1]
    order by a.shards > 1, a.id, l.shard
  ), locked as (
    select legs.*, b.balance_minor, b.version
    from legs
    left join lateral (
      select b.balance_minor, b.version from ledger_balances b
      where b.account_id = legs.account_id and b.shard = legs.shard
      for update
    ) b on true
  ), computed as (
    select locked.*,
           locked.balance_minor + (sum(locked.delta) over w)::bigint - locked.delta as before_minor,
           locked.balance_minor + (sum(locked.delta) over w)::bigint as after_minor,
           locked.version + row_number() over w as next_version
    from locked
    window w as (partition by locked.account_id, locked.shard order by locked.tx, locked.leg)
  ), written as (
    insert into ledger_entries (transaction_id, leg_index, account_id, shard, side, amount_minor,
                                balance_before_minor, balance_after_minor, account_version, effective_at)
    select c.transaction_id, c.leg, c.account_id, c.shard, c.side, c.amount, c.before_minor, c.after_minor, c.next_version, c.effective_at
    from computed c
    order by c.tx, c.leg
  )
  select c.tx, c.transaction_id, false, c.leg, c.code, c.shard, c.side, c.amount, c.before_minor, c.after_minor, c.next_version
  from computed c;

  -- 4. Replays answer with what was stored.
  if cardinality(v_replay_idx) > 0 then
    return query
    select x.idx, e.transaction_id, true, e.leg_index, a.code, e.shard, e.side, e.amount_minor,
           e.balance_before_minor, e.balance_after_minor, e.account_version
    from unnest(v_replay_idx, v_replay_ids) x(idx, id)
    join ledger_entries e on e.transaction_id = x.id
    join ledger_accounts a on a.id = e.account_id;
  end if;
end
$$;

-- Remembers a business rejection after the posting rolled back, unless the key has meanwhile been
-- posted (the posting wins) or rejected. Returns whether this call stored it.
create function ledger_record_rejection(p_scope text, p_key text, p_hash bytea, p_code text, p_message text, p_details jsonb)
returns boolean
language plpgsql security definer set search_path = pg_catalog, public, pg_temp as $$
declare
  v_stored int;
begin
  if p_code not in ('insufficient_funds', 'limit_exceeded') then
    raise exception using errcode = 'LG006', message = format('%s is not a remembered ledger rejection', p_code);
  end if;
  insert into ledger_rejections (scope, idempotency_key, request_hash, code, message, details)
  select p_scope, p_key, p_hash, p_code, p_message, coalesce(p_details, '{}')
  where not exists (select 1 from ledger_transactions t where t.scope = p_scope and t.idempotency_key = p_key)
  on conflict (scope, idempotency_key) do nothing;
  get diagnostics v_stored = row_count;
  return v_stored > 0;
end
$$;

---------------------------------------------------------------------------------------------------
-- Privileges: read everything, write only through the two functions.

revoke all on function ledger_post(jsonb, jsonb) from public;
revoke all on function ledger_record_rejection(text, text, bytea, text, text, jsonb) from public;
grant execute on function ledger_post(jsonb, jsonb) to billing_app;
grant execute on function ledger_record_rejection(text, text, bytea, text, text, jsonb) to billing_app;
grant select on ledger_currencies, ledger_accounts, ledger_balances, ledger_transactions, ledger_entries, ledger_rejections
  to billing_app;
