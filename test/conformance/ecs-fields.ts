/**
 * A validator of ECS records over the `EcsFlat` definitions of the official @elastic/ecs package:
 * each leaf field (nested objects flattened to dotted names) must be an ECS field, of its type
 * (keyword-like: a string; long/integer: an integer; date: an ISO 8601 string; ip: an address;
 * boolean), an array only where ECS normalizes the field to one, with its allowed values, and every
 * `event.type` must be expected by every `event.category` (`allowed_values[].expected_event_types`).
 * A field of type `object` with an `object_type` (labels) takes any key with values of that type.
 */
import net from 'node:net';
import { EcsFlat } from '@elastic/ecs';

interface EcsField {
  type: string;
  normalize?: string[];
  object_type?: string;
  allowed_values?: Array<{ name: string; expected_event_types?: string[] }>;
}

const FIELDS = EcsFlat as unknown as Record<string, EcsField>;
const STRINGS = new Set(['keyword', 'constant_keyword', 'wildcard', 'match_only_text', 'text', 'flattened']);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function typeError(type: string, value: unknown): string | null {
  if (STRINGS.has(type)) return typeof value === 'string' ? null : 'a string';
  if (type === 'long' || type === 'integer') return Number.isSafeInteger(value) ? null : 'an integer';
  if (type === 'float' || type === 'double' || type === 'scaled_float') {
    return typeof value === 'number' ? null : 'a number';
  }
  if (type === 'boolean') return typeof value === 'boolean' ? null : 'a boolean';
  if (type === 'date') return typeof value === 'string' && ISO.test(value) ? null : 'an ISO 8601 date';
  if (type === 'ip') return typeof value === 'string' && net.isIP(value) !== 0 ? null : 'an IP address';
  return `a value of unsupported type ${type}`;
}

/** Every problem of the record, as `field: what is wrong`; empty when it is valid ECS. */
export function ecsErrors(record: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const flat = new Map<string, unknown>();
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const name = prefix + k;
      const field = FIELDS[name];
      if (field?.type === 'object' && field.object_type && v && typeof v === 'object' && !Array.isArray(v)) {
        for (const [sub, subValue] of Object.entries(v as Record<string, unknown>)) {
          const problem = typeError(field.object_type, subValue);
          if (problem) errors.push(`${name}.${sub}: expected ${problem}`);
        }
      } else if (v && typeof v === 'object' && !Array.isArray(v)) {
        walk(v as Record<string, unknown>, `${name}.`);
      } else {
        flat.set(name, v);
      }
    }
  };
  walk(record, '');
  for (const [name, value] of flat) {
    const field = FIELDS[name];
    if (!field) {
      errors.push(`${name}: not an ECS field`);
      continue;
    }
    const isArray = field.normalize?.includes('array') ?? false;
    if (Array.isArray(value) && !isArray) errors.push(`${name}: ECS does not take an array here`);
    for (const v of Array.isArray(value) ? value : [value]) {
      const problem = typeError(field.type, v);
      if (problem) errors.push(`${name}: expected ${problem}, got ${JSON.stringify(v)?.slice(0, 60)}`);
      else if (field.allowed_values && !field.allowed_values.some((a) => a.name === v)) {
        errors.push(`${name}: ${JSON.stringify(v)} is not an allowed value`);
      }
    }
  }
  const categories = flat.get('event.category');
  const types = flat.get('event.type');
  if (Array.isArray(categories) && Array.isArray(types)) {
    for (const c of categories) {
      const expected = FIELDS['event.category']!.allowed_values!.find(
        (a) => a.name === c,
      )?.expected_event_types;
      for (const t of types) {
        if (expected && !expected.includes(t as string)) {
          errors.push(
            `event.type: ${JSON.stringify(t)} is not expected with event.category ${JSON.stringify(c)}`,
          );
        }
      }
    }
  }
  return errors;
}
