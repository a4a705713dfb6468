/** What a type's values are written as in CSV / NDJSON: types that write alike share a kind. */
import { DataType } from 'apache-arrow';
import { isStringType } from '../../../batch/strings';

export function textKind(type: DataType): string {
  if (isStringType(type)) return 'string';
  if (DataType.isDictionary(type)) return textKind(type.dictionary);
  if (DataType.isInt(type)) return 'integer';
  if (DataType.isFloat(type)) return 'float';
  if (DataType.isBool(type)) return 'boolean';
  if (DataType.isTimestamp(type)) return `timestamp${type.timezone ? ` (${type.timezone})` : ''}`;
  if (DataType.isDate(type)) return 'date';
  return String(type);
}
