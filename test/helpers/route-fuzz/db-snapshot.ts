/** Row count and content hash of every table of a database, to prove a run of requests wrote nothing. */
import type { Sql } from '../../../src/shared/db.js';

export type DbSnapshot = Map<string, { rows: bigint; md5: string }>;

/** Every base table of the public schema, read as the owner (the application role cannot read all). */
export async function snapshotTables(ownerSql: Sql): Promise<DbSnapshot> {
  const tables = await ownerSql<{ name: string }[]>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
  const snapshot: DbSnapshot = new Map();
  for (const { name } of tables) {
    const [row] = await ownerSql.unsafe<{ rows: bigint; md5: string }[]>(
      `select count(*)::bigint as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5 from public."${name.replace(/"/g, '""')}" t`,
    );
    snapshot.set(name, row!);
  }
  return snapshot;
}

/** Tables whose rows or content differ between two snapshots, with their row counts. */
export function changedTables(before: DbSnapshot, after: DbSnapshot): Array<{ table: string; rowsBefore: string; rowsAfter: string }> {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names]
    .filter((t) => before.get(t)?.md5 !== after.get(t)?.md5 || before.get(t)?.rows !== after.get(t)?.rows)
    .map((table) => ({ table, rowsBefore: String(before.get(table)?.rows ?? '-'), rowsAfter: String(after.get(table)?.rows ?? '-') }));
}
