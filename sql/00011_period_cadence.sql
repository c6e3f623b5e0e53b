-- The cadence of a subscription's (or contract's) periods, on its usage periods: the length of the
-- period that follows, as an interval ('1 month', '1 year', or a fixed '8000 milliseconds' in tests).
-- When usage arrives after a period's end before its process has opened the next one (the worker
-- was down across the end), usage_ensure_periods creates the next period in this shape instead of a
-- calendar month, so the late roll finds exactly its period and adopts it: no usage is ever counted
-- in a period the roll can neither adopt nor trim (issue #13). Null: calendar months, as before.
alter table billing_periods add column cadence interval check (cadence > interval '0');
grant update (cadence) on billing_periods to billing_app;
