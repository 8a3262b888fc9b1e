// How both stores read PostgreSQL's types that need it.
export const INT8_OID = 20;
// Money and counters are bigint columns; every value Coffer stores fits a JS number exactly.
export const parseInt8 = (value: string): number => Number(value);
