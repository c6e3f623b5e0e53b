-- The triggers that keep the ledger honest (tables: sql/00002_ledger.sql): append-only tables,
-- balances changed only by entries, entries checked as a set and applied, transactions balanced at
-- commit.
-- after: 00000

create or replace function ledger_forbid_change() returns trigger language plpgsql as $$
begin
  raise exception using
    errcode = 'LG101',
    message = format('%s is append-only: %s is not allowed', tg_table_name, tg_op),
    hint = 'Correct a posting with a reversing transaction.';
end
$$;

-- Balances change only under the entry trigger (or when a new account opens its rows), i.e. from
-- inside another trigger. A direct write, even by the owner, is refused.
create or replace function ledger_guard_balances() returns trigger language plpgsql as $$
begin
  if tg_op in ('DELETE', 'TRUNCATE') or pg_trigger_depth() < 2 then
    raise exception using
      errcode = 'LG101',
      message = format('ledger_balances changes only through ledger entries: %s is not allowed', tg_op);
  end if;
  return null;
end
$$;

-- A new account opens one zero balance row per shard.
create or replace function ledger_open_balances() returns trigger
language plpgsql security definer set search_path = pg_catalog, public, pg_temp as $$
begin
  insert into ledger_balances (account_id, shard) select new.id, s from generate_series(0, new.shards - 1) s;
  return null;
end
$$;

create or replace function ledger_apply_entries() returns trigger
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

-- At commit: every transaction has at least two entries, its debits equal its credits in each
-- currency, and a reversal mirrors its original leg for leg (which also proves the original exists).
create or replace function ledger_check_transaction() returns trigger
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
