/** Fixed credentials of test and benchmark runs (never used outside them). */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7);
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const TEST_WEBHOOK_SECRET = 'whsec_test_0123456789abcdef';
