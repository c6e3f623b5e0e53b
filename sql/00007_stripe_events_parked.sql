-- Stripe events that were signed correctly but that we cannot act on, parked for operators instead of
-- refused: Stripe redelivers a refused event for days and disables endpoints that keep failing, and a
-- 4xx cannot fix an event whose content will never change. Listed by `GET /admin/stripe-events/parked`
-- and `npm run cli -- stripe parked`; counted in the api's stripe_webhook_events_total metric.
--   unprocessable: the body is not an event envelope we can read or store (its bytes are kept)
--   unmatched:     a valid event (also in stripe_events) naming a subscription we do not have
create table stripe_events_parked (
  id          bigint generated always as identity primary key,
  reason      text not null check (reason in ('unprocessable', 'unmatched')),
  -- Redeliveries park once: `unmatched:<event id>` or `unprocessable:<sha256 of the body>`.
  dedupe_key  text not null unique,
  event_id    text,
  event_type  text,
  -- What is wrong, as [{path, message}] like a validation problem.
  problems    jsonb not null,
  -- The body as received (UTF-8), for unprocessable events only; bytea because text cannot hold NUL.
  body        bytea,
  parked_at   timestamptz not null default now()
);
create index stripe_events_parked_reason on stripe_events_parked (reason, id);

grant select, insert on stripe_events_parked to billing_app;
