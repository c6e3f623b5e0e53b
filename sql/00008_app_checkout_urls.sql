-- Where Stripe Checkout sends a customer back, per app: a checkout request that names no successUrl
-- or cancelUrl uses its app's. Set at registration or later by an operator (PATCH /admin/apps/{appId}).
alter table apps
  add column checkout_success_url text check (length(checkout_success_url) between 1 and 2048),
  add column checkout_cancel_url  text check (length(checkout_cancel_url) between 1 and 2048);

grant update (checkout_success_url, checkout_cancel_url) on apps to billing_app;
