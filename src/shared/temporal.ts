/** The Temporal client of the api (and of tests and tools). */
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from './search-attributes.js';

const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

export function createTemporalClient(opts: { address: string; namespace: string }): Client {
  // Lazy: the api starts (and answers /health/live) while Temporal is still coming up; /health/ready tells.
  const connection = Connection.lazy({ address: opts.address, connectTimeout: 5_000 });
  return new Client({ connection, namespace: opts.namespace });
}

/** Waits until the frontend answers, then adds any of our search attributes the namespace lacks. */
export async function ensureSearchAttributes(address: string, namespace: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let connection: Connection | undefined;
  for (;;) {
    try {
      connection ??= await Connection.connect({ address, connectTimeout: 2_000 });
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = SEARCH_ATTRIBUTES.filter((k) => !customAttributes || !(k.name in customAttributes));
      if (missing.length > 0) {
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map((k) => [k.name, KEYWORD])),
        });
      }
      await connection.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        await connection?.close().catch(() => {});
        throw new Error(`Temporal at ${address} is not ready: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
