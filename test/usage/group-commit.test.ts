/**
 * Group commit of ingest (src/usage/ingest-queue.ts): concurrent batches of one app share
 * usage_ingest calls, yet each batch is counted whole and gets exactly its own results.
 */
import { describe, expect, it } from 'vitest';
import type { ValidatedEvent } from '../../src/usage/batch-validation.js';
import { ingestQueue } from '../../src/usage/ingest-queue.js';
import type { EventOutcome } from '../../src/usage/usage-store.js';
import { adminSql } from '../helpers/context.js';
import { counters, createTeams, llmEvent, usageApp } from './fixtures.js';

const u = await usageApp({ teams: 0 });

describe('ingest group commit', () => {
  it('counts concurrent batches of one app in fewer database transactions, each batch getting its own results', async () => {
    const teams = await createTeams(u.api, u.appId, 2);
    const batches = Array.from({ length: 12 }, (_, b) => Array.from({ length: 10 }, (_, i) => llmEvent(teams[(b + i) % 2]!, { inputTokens: 100 * b + i, outputTokens: 0 })));
    const responses = await Promise.all(batches.map((events) => u.post(events)));

    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    responses.forEach((r, b) => {
      expect(r.body.results.map((x) => [x.index, x.idempotencyKey, x.status])).toEqual(batches[b]!.map((e, i) => [i, e.idempotencyKey, 'accepted']));
    });
    const ids = responses.flatMap((r) => r.body.results.map((x) => x.eventId!));
    expect(new Set(ids).size).toBe(120);
    // Rows written by one call share the inserting transaction (xmin).
    const [row] = await adminSql()<{ n: number }[]>`select count(distinct xmin::text)::int as n from usage_events where id = any (${ids}::bigint[])`;
    expect(row!.n).toBeLessThan(12);
    const total = (await Promise.all(teams.map((t) => counters(t, 'llm.input_tokens')))).flat().reduce((n, c) => n + Number(c.quantity), 0);
    expect(total).toBe(batches.flat().reduce((n, e) => n + Number(e.payload.inputTokens), 0));
  });
});

describe('the ingest queue', () => {
  const event = (index: number, key: string): ValidatedEvent => ({
    index, idempotencyKey: key, eventType: 'llm.tokens.v1', teamId: 't', timestampMs: 0, source: 's', payload: {}, hash: key, quantities: [],
  });
  const accepted = (events: ValidatedEvent[]) => new Map(events.map((e): [number, EventOutcome] => [e.index, { status: 'accepted', reason: null, eventId: BigInt(e.index), adjusted: false }]));

  it('shares a call only between batches of one app with disjoint keys, and recounts each batch alone when a shared call fails', async () => {
    const calls: Array<{ appId: string; keys: string[] }> = [];
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const queue = ingestQueue(
      async (appId, events) => {
        calls.push({ appId, keys: events.map((e) => e.idempotencyKey) });
        if (calls.length === 1) await blocked; // Hold the only lane so the rest queue up.
        if (events.length > 1 && events.some((e) => e.idempotencyKey === 'poison')) throw new Error('shared call failed');
        if (events.some((e) => e.idempotencyKey === 'poison')) throw new Error('poison alone');
        return accepted(events);
      },
      { callsInFlightMax: 1, eventsPerCallMax: 100 },
    );

    const first = queue.submit({ appId: 'app-a', events: [event(0, 'k0')] });
    const a1 = queue.submit({ appId: 'app-a', events: [event(0, 'k1'), event(1, 'k2')] });
    const b1 = queue.submit({ appId: 'app-b', events: [event(0, 'k3')] });
    const a2 = queue.submit({ appId: 'app-a', events: [event(0, 'k1')] }); // same key as a1: must wait for a later call
    const a3 = queue.submit({ appId: 'app-a', events: [event(0, 'poison')] });
    release();
    const settled = await Promise.allSettled([first, a1, b1, a2, a3]);

    expect(calls).toEqual([
      { appId: 'app-a', keys: ['k0'] },
      { appId: 'app-a', keys: ['k1', 'k2', 'poison'] }, // shared, fails...
      { appId: 'app-a', keys: ['k1', 'k2'] }, // ...so each of its batches alone
      { appId: 'app-a', keys: ['poison'] },
      { appId: 'app-b', keys: ['k3'] },
      { appId: 'app-a', keys: ['k1'] },
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    // Results come back under each batch's own indexes.
    expect([...(settled[1] as PromiseFulfilledResult<Map<number, EventOutcome>>).value.keys()]).toEqual([0, 1]);
  });

  it('runs each call in a lane no other call holds meanwhile, so concurrent calls add into different counter stripes', async () => {
    const held = new Set<number>();
    const seen: number[] = [];
    let overlap = false;
    const queue = ingestQueue(
      async (_appId, events, lane) => {
        if (held.has(lane)) overlap = true;
        held.add(lane);
        seen.push(lane);
        await new Promise((r) => setTimeout(r, 5));
        held.delete(lane);
        return accepted(events);
      },
      { callsInFlightMax: 3, eventsPerCallMax: 1 },
    );
    await Promise.all(Array.from({ length: 12 }, (_, i) => queue.submit({ appId: 'app-a', events: [event(0, `k${i}`)] })));
    expect(overlap).toBe(false);
    expect(new Set(seen)).toEqual(new Set([0, 1, 2]));
  });
});
