/** A short readable name for an Arrow type, as the README's type-fidelity table writes it. */
import { DataType, Type } from 'apache-arrow';

const UNITS = ['s', 'ms', 'us', 'ns'];

export function typeLabel(type: DataType): string {
  const t = type as DataType & Record<string, unknown>;
  switch (type.typeId) {
    case Type.Int:
      return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
    case Type.Float:
      return `float${[16, 32, 64][t.precision as number]}`;
    case Type.Decimal:
      return `decimal(${t.precision},${t.scale})`;
    case Type.Timestamp:
      return `timestamp[${UNITS[t.unit as number]}${t.timezone ? `, ${t.timezone}` : ''}]`;
    case Type.Time:
      return `time${t.bitWidth}[${UNITS[t.unit as number]}]`;
    case Type.Duration:
      return `duration[${UNITS[t.unit as number]}]`;
    case Type.Date:
      return t.unit === 0 ? 'date32' : 'date64';
    case Type.Interval:
      return `interval[${['year_month', 'day_time', 'month_day_nano'][t.unit as number]}]`;
    case Type.Dictionary:
      return `dictionary<${typeLabel(t.dictionary as DataType)}>`;
    case Type.List:
    case Type.LargeList:
      return `${type.typeId === Type.List ? 'list' : 'large_list'}<${typeLabel(type.children[0].type)}>`;
    case Type.FixedSizeList:
      return `fixed_size_list<${typeLabel(type.children[0].type)}, ${t.listSize}>`;
    case Type.Struct:
      return `struct<${type.children.map((f) => `${f.name}: ${typeLabel(f.type)}`).join(', ')}>`;
    case Type.Map: {
      const [k, v] = type.children[0].type.children;
      return `map<${typeLabel(k.type)}, ${typeLabel(v.type)}>`;
    }
  }
  const names: Partial<Record<Type, string>> = {
    [Type.Null]: 'null', [Type.Bool]: 'bool', [Type.Utf8]: 'utf8', [Type.LargeUtf8]: 'large_utf8', [Type.Utf8View]: 'utf8_view',
    [Type.Binary]: 'binary', [Type.LargeBinary]: 'large_binary', [Type.BinaryView]: 'binary_view', [Type.FixedSizeBinary]: 'fixed_size_binary',
  };
  return names[type.typeId] ?? String(type);
}
