/**
 * Concurrent batches: identical ones count every event exactly once; overlapping ones of the same
 * teams (in different orders, with gauges) neither deadlock nor drift from an independent recount.
 */
import { describe, expect, it } from 'vitest';
import { appSql } from '../helpers/context.js';
import { recountUsage } from '../../src/usage/recount.js';
import type { EventResult } from '../../src/usage/ingest.js';
import { bandwidthEvent, counters, createTeams, imageEvent, llmEvent, storageEvent, usageApp } from './fixtures.js';

const u = await usageApp({ teams: 0 });

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('concurrent batches', () => {
  it('count every event of identical concurrent batches exactly once', async () => {
    const teams = await createTeams(u.api, u.appId, 3);
    const batch = Array.from({ length: 60 }, (_, i) => llmEvent(teams[i % 3]!, { inputTokens: i + 1, outputTokens: 1 }));
    const responses = await Promise.all(Array.from({ length: 8 }, () => u.post(batch)));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    for (let i = 0; i < batch.length; i++) {
      const statuses = responses.map((r) => r.body.results[i]!.status).sort();
      expect(statuses).toEqual(['accepted', ...Array(7).fill('duplicate')]);
    }
    const total = (await Promise.all(teams.map((t) => counters(t, 'llm.input_tokens')))).flat().reduce((n, c) => n + Number(c.quantity), 0);
    expect(total).toBe((60 * 61) / 2);
  });

  it('of the same teams, overlapping and in different orders, end equal to an independent recount', async () => {
    const teams = await createTeams(u.api, u.appId, 4);
    const now = Date.now();
    const pool = Array.from({ length: 240 }, (_, i) => {
      const team = teams[i % 4]!;
      const at = now - (i % 50) * 1_000;
      switch (i % 4) {
        case 0: return llmEvent(team, { at, inputTokens: i, outputTokens: 2 * i });
        case 1: return storageEvent(team, (i * 7919) % 100_000, at);
        case 2: return bandwidthEvent(team, i * 10, { at });
        default: return imageEvent(team, { at });
      }
    });
    const batches = Array.from({ length: 16 }, (_, b) => shuffle(pool, b + 1).slice(0, 80));
    const responses = await Promise.all(batches.map((events) => u.post(events)));
    expect(responses.map((r) => r.status)).toEqual(Array(16).fill(200));
    const accepted = new Map<string, number>();
    responses.forEach((r, b) => r.body.results.forEach((res: EventResult, i) => {
      if (res.status === 'accepted') accepted.set(batches[b]![i]!.idempotencyKey, (accepted.get(batches[b]![i]!.idempotencyKey) ?? 0) + 1);
    }));
    expect([...accepted.values()].every((n) => n === 1)).toBe(true);
    const recount = await recountUsage(appSql(), teams);
    expect(recount.events).toBe(accepted.size);
    expect(recount.mismatches).toEqual([]);
  });
});
