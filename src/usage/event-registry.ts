/**
 * Every event type, found in event-types/: each file there default-exports one defineEventType(...),
 * so adding a type is adding one file, with no list to edit. Loaded once, at import, and checked:
 * a file named after its type, a well-formed versioned name, known meters. A broken type file stops
 * the process at start rather than failing events at run time.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EventType, MeterQuantity } from './event-type.js';
import { METERS, type MeterDefinition } from '../pricing/meters.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'event-types');
const TYPE_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\.v[1-9]\d*$/;
const SOURCE_FILE_RE = /^[a-z0-9-]+\.(ts|js)$/;

async function load(): Promise<ReadonlyMap<string, EventType>> {
  const files = readdirSync(DIR).filter((f) => SOURCE_FILE_RE.test(f)).sort();
  const types = new Map<string, EventType>();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(DIR, file)).href)) as { default?: EventType };
    const def = mod.default;
    if (!def || typeof def.type !== 'string' || typeof def.toQuantities !== 'function') {
      throw new Error(`event-types/${file} must default-export defineEventType({...})`);
    }
    if (!TYPE_RE.test(def.type)) throw new Error(`event-types/${file}: "${def.type}" is not a versioned type name like llm.tokens.v1`);
    const expected = `${def.type.replaceAll('.', '-').replaceAll('_', '-')}.${file.split('.').pop()}`;
    if (file !== expected) throw new Error(`event-types/${file} holds ${def.type}; name the file ${expected}`);
    if (types.has(def.type)) throw new Error(`Event type ${def.type} is defined twice`);
    types.set(def.type, def);
  }
  return types;
}

export const EVENT_TYPES: ReadonlyMap<string, EventType> = await load();

export function eventType(name: string): EventType | undefined {
  return EVENT_TYPES.get(name);
}

/**
 * The meter quantities of a payload that already passed the type's schema. Checks the mapping's
 * output against the meters, because a wrong dimension set would split counters silently.
 */
export function meterQuantities(type: EventType, payload: unknown): MeterQuantity[] {
  const quantities = type.toQuantities(payload);
  for (const q of quantities) {
    const meter: MeterDefinition | undefined = METERS[q.meter];
    const names = Object.keys(q.dimensions);
    if (!meter || names.length !== meter.dimensions.length || !meter.dimensions.every((d) => typeof q.dimensions[d] === 'string')) {
      throw new Error(`${type.type} maps to ${q.meter} with dimensions ${names.join(',')}; the meter has ${meter?.dimensions.join(',')}`);
    }
    if (!(Number.isFinite(q.quantity) && q.quantity >= 0)) throw new Error(`${type.type} maps to a negative or non-finite ${q.meter}`);
    if (meter.aggregation === 'unique_count' && q.uniqueValue === undefined) throw new Error(`${type.type}: ${q.meter} needs uniqueValue`);
  }
  return quantities;
}
