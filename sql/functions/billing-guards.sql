-- Append-only guard of the billing tables (sql/00005_subscriptions.sql).
-- after: 00000

create or replace function billing_reject_change() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only (% rejected)', tg_table_name, tg_op using errcode = 'insufficient_privilege';
end
$$;
