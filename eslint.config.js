// Lint rules that catch what costs money in this codebase: forgotten awaits (a ledger write that
// never ran), and Node or I/O modules inside workflow code (non-determinism).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from './eslint.boundaries.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'sdk/dist/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['info', 'warn', 'error'] }],
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox (its imports: eslint.boundaries.js).
    files: ['src/workflows/**/*.ts'],
    rules: {
      // Clock reads go through src/workflows/clock.ts, the one place that says why they are safe.
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Use nowMs() from ./clock.js.' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use nowMs() from ./clock.js.' }],
    },
  },
  // Which folder may import which (and workflow determinism): one place, also run by npm test.
  ...boundaries,
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Plain Node scripts that run before dependencies exist.
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
