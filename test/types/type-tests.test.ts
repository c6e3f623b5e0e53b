/**
 * The type tests of this folder (files without `.test`: never run, only compiled) must compile:
 * the SDK/server contract (sdk-contract.ts) and the DB/Stripe activity split (activity-kinds.ts).
 * `npm run typecheck` checks them too; this puts them in `npm test`, so CI fails on a drift.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));

describe('type tests', () => {
  it('compile against the current SDK, api schemas and activities', () => {
    const config = ts.getParsedCommandLineOfConfigFile(`${ROOT}/tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    if (!config) throw new Error('tsconfig.json could not be read');
    const files = readdirSync(HERE).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => `${HERE}${f}`);
    expect(files.length).toBeGreaterThanOrEqual(2);
    const program = ts.createProgram(files, config.options);
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const at = d.file && d.start !== undefined ? `${d.file.fileName.slice(ROOT.length)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} ` : '';
      return at + ts.flattenDiagnosticMessageText(d.messageText, '\n');
    });
    expect(errors).toEqual([]);
  });
});
