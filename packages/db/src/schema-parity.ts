import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * Compares prisma/schema.prisma with a database built by the SQL migrations: tables, columns, column types,
 * nullability, enums and indexes. Prisma's own `migrate diff` needs the native schema engine, which is not
 * available here (docs/decisions/0007-prisma-offline.md), so this reads the schema's (regular) syntax itself.
 */
export const DEFAULT_SCHEMA_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../prisma/schema.prisma',
);

export interface ColumnShape {
  type: string;
  nullable: boolean;
}
export interface DatabaseShape {
  tables: Record<string, Record<string, ColumnShape>>;
  enums: Record<string, string[]>;
  /** "table(col1,col2)" → unique? */
  indexes: Record<string, boolean>;
}

const SCALARS: Record<string, string> = {
  String: 'text',
  Boolean: 'bool',
  Int: 'int4',
  BigInt: 'int8',
  Float: 'float8',
  Decimal: 'numeric',
  DateTime: 'timestamp',
  Json: 'jsonb',
  Bytes: 'bytea',
};
const NATIVE: Record<string, string> = {
  Uuid: 'uuid',
  Timestamptz: 'timestamptz',
  Timestamp: 'timestamp',
  Decimal: 'numeric',
  Text: 'text',
  VarChar: 'varchar',
  Integer: 'int4',
  SmallInt: 'int2',
  JsonB: 'jsonb',
};

function blocks(source: string, kind: 'model' | 'enum'): Array<{ name: string; body: string[] }> {
  const out: Array<{ name: string; body: string[] }> = [];
  const re = new RegExp(`^${kind}\\s+(\\w+)\\s*\\{([\\s\\S]*?)^\\}`, 'gm');
  for (const m of source.matchAll(re)) {
    const body = m[2]!
      .split('\n')
      .map((l) => l.replace(/\/\/.*$/, '').trim())
      .filter(Boolean);
    out.push({ name: m[1]!, body });
  }
  return out;
}

export function shapeFromSchema(source: string): DatabaseShape {
  const enums: DatabaseShape['enums'] = {};
  for (const e of blocks(source, 'enum')) enums[e.name] = e.body.map((l) => l.split(/\s+/)[0]!);
  const models = blocks(source, 'model');
  const modelNames = new Set(models.map((m) => m.name));
  const shape: DatabaseShape = { tables: {}, enums, indexes: {} };
  for (const model of models) {
    const tableName = /@@map\("([^"]+)"\)/.exec(model.body.join('\n'))?.[1] ?? model.name;
    const columns: Record<string, ColumnShape> = {};
    const fieldToColumn: Record<string, string> = {};
    for (const line of model.body) {
      if (line.startsWith('@@')) continue;
      const m = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
      if (!m) continue;
      const field = m[1]!;
      const type = m[2]!;
      const list = m[3];
      const optional = m[4];
      const attrs = m[5] ?? '';
      if (modelNames.has(type)) continue; // relation field: no column
      const column = /@map\("([^"]+)"\)/.exec(attrs)?.[1] ?? field;
      fieldToColumn[field] = column;
      const native = /@db\.(\w+)/.exec(attrs)?.[1];
      let pgType = native ? NATIVE[native] : enums[type] ? type : SCALARS[type];
      if (!pgType) throw new Error(`schema parity: unknown type ${type}${native ? ` @db.${native}` : ''}`);
      if (list) pgType = `_${pgType}`;
      columns[column] = { type: pgType, nullable: Boolean(optional) || Boolean(list) };
      if (/@unique\b/.test(attrs)) shape.indexes[`${tableName}(${column})`] = true;
    }
    for (const line of model.body) {
      const idx = /^@@(unique|index)\(\[([^\]]+)\]/.exec(line);
      if (!idx) continue;
      const cols = idx[2]!.split(',').map((f) => {
        const name = f.trim().replace(/\(.*\)$/, '');
        return fieldToColumn[name] ?? name;
      });
      shape.indexes[`${tableName}(${cols.join(',')})`] = idx[1] === 'unique';
    }
    shape.tables[tableName] = columns;
  }
  return shape;
}

export async function shapeFromDatabase(databaseUrl: string): Promise<DatabaseShape> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const cols = await client.query<{
      table_name: string;
      column_name: string;
      udt_name: string;
      is_nullable: string;
    }>(
      `SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    const enums = await client.query<{ name: string; label: string }>(
      `SELECT t.typname AS name, e.enumlabel AS label FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
       JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' ORDER BY t.typname, e.enumsortorder`,
    );
    const idx = await client.query<{ table_name: string; columns: string[]; unique: boolean }>(
      `SELECT t.relname AS table_name, ix.indisunique AS unique,
              array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_index ix
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
       WHERE n.nspname = 'public' AND NOT ix.indisprimary AND t.relname <> '_prisma_migrations'
       GROUP BY t.relname, ix.indexrelid, ix.indisunique`,
    );
    const shape: DatabaseShape = { tables: {}, enums: {}, indexes: {} };
    for (const c of cols.rows) {
      (shape.tables[c.table_name] ??= {})[c.column_name] = {
        type: c.udt_name,
        nullable: c.is_nullable === 'YES',
      };
    }
    for (const e of enums.rows) (shape.enums[e.name] ??= []).push(e.label);
    for (const i of idx.rows) shape.indexes[`${i.table_name}(${i.columns.join(',')})`] = i.unique;
    return shape;
  } finally {
    await client.end();
  }
}

/** Human-readable differences; empty when schema and database agree. */
export function diffShapes(schema: DatabaseShape, db: DatabaseShape): string[] {
  const out: string[] = [];
  const keys = (a: object, b: object) => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const table of keys(schema.tables, db.tables)) {
    const s = schema.tables[table];
    const d = db.tables[table];
    if (!s) out.push(`table ${table} exists in the migrations but not in schema.prisma`);
    else if (!d) out.push(`table ${table} is in schema.prisma but no migration creates it`);
    else
      for (const col of keys(s, d)) {
        const sc = s[col];
        const dc = d[col];
        if (!sc) out.push(`column ${table}.${col} exists in the migrations but not in schema.prisma`);
        else if (!dc) out.push(`column ${table}.${col} is in schema.prisma but no migration creates it`);
        else {
          if (sc.type !== dc.type)
            out.push(`column ${table}.${col}: schema type ${sc.type}, database type ${dc.type}`);
          if (sc.nullable !== dc.nullable)
            out.push(
              `column ${table}.${col}: schema ${sc.nullable ? 'nullable' : 'required'}, database ${dc.nullable ? 'nullable' : 'NOT NULL'}`,
            );
        }
      }
  }
  for (const name of keys(schema.enums, db.enums)) {
    if (JSON.stringify(schema.enums[name]) !== JSON.stringify(db.enums[name]))
      out.push(`enum ${name}: schema [${schema.enums[name] ?? ''}], database [${db.enums[name] ?? ''}]`);
  }
  for (const index of keys(schema.indexes, db.indexes)) {
    const s = schema.indexes[index];
    const d = db.indexes[index];
    if (s === undefined) out.push(`index ${index} exists in the migrations but not in schema.prisma`);
    else if (d === undefined) out.push(`index ${index} is in schema.prisma but no migration creates it`);
    else if (s !== d)
      out.push(
        `index ${index}: schema ${s ? 'unique' : 'non-unique'}, database ${d ? 'unique' : 'non-unique'}`,
      );
  }
  return out;
}

export async function checkSchemaParity(
  databaseUrl: string,
  schemaPath = DEFAULT_SCHEMA_PATH,
): Promise<string[]> {
  const schema = shapeFromSchema(await readFile(schemaPath, 'utf8'));
  return diffShapes(schema, await shapeFromDatabase(databaseUrl));
}
