-- Subscriptions an operator starts without Stripe Checkout (POST /admin/teams/{teamId}/subscriptions):
-- collected by invoice with net terms (Stripe's send_invoice, days_until_due) or charged to the
-- payment method the customer already saved (charge_automatically). Checkout subscriptions are
-- charge_automatically too. starts_at: when the operator asked it to start (null: at once).
alter table subscriptions
  add column origin            text not null default 'checkout' check (origin in ('checkout', 'operator')),
  add column collection_method text not null default 'charge_automatically'
    check (collection_method in ('send_invoice', 'charge_automatically')),
  add column days_until_due    integer check (days_until_due between 0 and 365),
  add column starts_at         timestamptz,
  add constraint subscriptions_net_terms_only_by_invoice check ((collection_method = 'send_invoice') = (days_until_due is not null));
