/**
 * A validator of OCSF records over the schema's own files (the ocsf-schema repository layout:
 * dictionary.json, categories.json, events/, objects/, profiles/), read at run time from a directory
 * outside this repository (the files are third-party data and are never copied here).
 *
 * Resolution, as the OCSF server compiles the schema:
 * - A class or object `extends` another: the parent's attributes, then its own, merged attribute by
 *   attribute (an `enum` is the union of both: a class adds activities to the base's Unknown/Other).
 * - `$include` merges a profile's attributes; they count as the profile's (a requirement applies only
 *   when the record lists the profile in `metadata.profiles`) unless the class says `profile: null`.
 * - An attribute's type and `is_array` come from dictionary.json unless the class or object overrides
 *   them; a `*_t` type resolves through dictionary.types to a base type, with its `regex` and `values`.
 * - A class's `class_uid` is `category uid * 1000 + uid` and `type_uid` is `class_uid * 100 +
 *   activity_id` (checked, as are `category_uid` and `class_uid` themselves).
 *
 * Issue kinds: required-missing, recommended-missing, enum-unknown, wrong-type, type_uid-incorrect,
 * unknown-attribute, constraint (`at_least_one`, `just_one`), class-unknown.
 */
import fs from 'node:fs';
import path from 'node:path';

export type OcsfIssueKind =
  | 'required-missing'
  | 'recommended-missing'
  | 'enum-unknown'
  | 'wrong-type'
  | 'type_uid-incorrect'
  | 'unknown-attribute'
  | 'constraint'
  | 'class-unknown';

export interface OcsfIssue {
  kind: OcsfIssueKind;
  /** Dotted path of the attribute, e.g. `metadata.product.name` or `resources[0].uid`. */
  path: string;
  message: string;
}

interface AttributeDef {
  type: string;
  isArray: boolean;
  requirement: string | undefined;
  enum: Record<string, unknown> | undefined;
  /** The profile this attribute belongs to, when it came from one. */
  profile: string | null;
}

interface Definition {
  name: string;
  attributes: Map<string, AttributeDef>;
  constraints: { at_least_one?: string[]; just_one?: string[] };
}

interface ClassDefinition extends Definition {
  classUid: number;
  categoryUid: number;
}

interface RawFile {
  name: string;
  extends?: string;
  uid?: number;
  category?: string;
  attributes?: Record<string, Record<string, unknown> | string[]>;
  constraints?: Definition['constraints'];
}

interface TypeDef {
  type?: string;
  regex?: string;
  values?: unknown[];
}

const BASE_TYPES = new Set(['string_t', 'integer_t', 'long_t', 'float_t', 'boolean_t', 'json_t']);

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...jsonFiles(full));
    else if (entry.name.endsWith('.json')) out.push(full);
  }
  return out;
}

export interface OcsfSchema {
  version: string;
  classes: ReadonlyMap<number, ClassDefinition>;
  validate(record: Record<string, unknown>): OcsfIssue[];
}

export function loadOcsfSchema(dir: string): OcsfSchema {
  const version = readJson<{ version: string }>(path.join(dir, 'version.json')).version;
  const dictionary = readJson<{
    attributes: Record<string, Record<string, unknown>>;
    types: { attributes: Record<string, TypeDef> };
  }>(path.join(dir, 'dictionary.json'));
  const categories = readJson<{ attributes: Record<string, { uid: number }> }>(
    path.join(dir, 'categories.json'),
  ).attributes;
  const rawEvents = new Map<string, RawFile>();
  for (const f of jsonFiles(path.join(dir, 'events'))) {
    const raw = readJson<RawFile>(f);
    rawEvents.set(raw.name, raw);
  }
  const rawObjects = new Map<string, RawFile>();
  for (const f of jsonFiles(path.join(dir, 'objects'))) {
    const raw = readJson<RawFile>(f);
    rawObjects.set(raw.name, raw);
  }

  /** Own attributes of a file, with its `$include`d profiles merged (marked as the profile's). */
  function ownAttributes(raw: RawFile): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    const { $include, ...attrs } = raw.attributes ?? {};
    for (const inc of ($include as string[] | undefined) ?? []) {
      const included = readJson<RawFile & { meta?: string }>(path.join(dir, inc));
      for (const [name, def] of Object.entries(included.attributes ?? {})) {
        out.set(name, { ...(def as Record<string, unknown>), profile: included.name });
      }
    }
    for (const [name, def] of Object.entries(attrs)) {
      const d = def as Record<string, unknown>;
      const prior = out.get(name);
      // A class attribute that names no profile key keeps an included profile's marker only when
      // the class does not redefine the attribute's requirement.
      out.set(name, prior ? { ...prior, ...d, profile: 'profile' in d ? d.profile : prior.profile } : d);
    }
    return out;
  }

  function mergeAttributes(
    parent: Map<string, Record<string, unknown>>,
    own: Map<string, Record<string, unknown>>,
  ): Map<string, Record<string, unknown>> {
    const out = new Map(parent);
    for (const [name, def] of own) {
      const prior = out.get(name);
      if (!prior) {
        out.set(name, def);
        continue;
      }
      const merged: Record<string, unknown> = { ...prior, ...def };
      if (prior.enum || def.enum) {
        merged.enum = { ...(prior.enum as object | undefined), ...(def.enum as object | undefined) };
      }
      out.set(name, merged);
    }
    return out;
  }

  interface Resolved {
    attrs: Map<string, Record<string, unknown>>;
    raw: RawFile[];
  }
  const resolvedRaw = new Map<string, Resolved>();
  function resolveRaw(kind: 'event' | 'object', name: string): Resolved {
    const key = `${kind}:${name}`;
    const cached = resolvedRaw.get(key);
    if (cached) return cached;
    const raw = (kind === 'event' ? rawEvents : rawObjects).get(name);
    if (!raw) throw new Error(`OCSF schema: no ${kind} named ${name}`);
    const parent: Resolved = raw.extends ? resolveRaw(kind, raw.extends) : { attrs: new Map(), raw: [] };
    const result = { attrs: mergeAttributes(parent.attrs, ownAttributes(raw)), raw: [...parent.raw, raw] };
    resolvedRaw.set(key, result);
    return result;
  }

  function toDefinition(name: string, resolved: Resolved): Definition {
    const attributes = new Map<string, AttributeDef>();
    for (const [attr, def] of resolved.attrs) {
      const dict = dictionary.attributes[attr];
      if (!dict) throw new Error(`OCSF schema: ${name}.${attr} is not in the dictionary`);
      attributes.set(attr, {
        type: (def.type as string | undefined) ?? (dict.type as string),
        isArray: Boolean(def.is_array ?? dict.is_array),
        requirement: def.requirement as string | undefined,
        enum: (def.enum ?? dict.enum) as Record<string, unknown> | undefined,
        profile: (def.profile as string | null | undefined) ?? null,
      });
    }
    // Constraints: the nearest file that states them (a child may restate its parent's).
    const withConstraints = [...resolved.raw].reverse().find((r) => r.constraints);
    return { name, attributes, constraints: withConstraints?.constraints ?? {} };
  }

  const objects = new Map<string, Definition>();
  function objectDef(name: string): Definition {
    let def = objects.get(name);
    if (!def) {
      def = toDefinition(name, resolveRaw('object', name));
      objects.set(name, def);
    }
    return def;
  }

  const classes = new Map<number, ClassDefinition>();
  for (const raw of rawEvents.values()) {
    if (raw.uid === undefined) continue; // an abstract class (a category's generic event)
    const resolved = resolveRaw('event', raw.name);
    const category = [...resolved.raw].reverse().find((r) => r.category)?.category;
    const categoryUid = category ? categories[category]?.uid : undefined;
    if (categoryUid === undefined) continue; // base_event's "other": no class of its own here
    const def = toDefinition(raw.name, resolved);
    classes.set(categoryUid * 1000 + raw.uid, {
      ...def,
      classUid: categoryUid * 1000 + raw.uid,
      categoryUid,
    });
  }

  function baseType(type: string): { base: string; regexes: RegExp[]; values?: unknown[] } {
    const regexes: RegExp[] = [];
    let values: unknown[] | undefined;
    let t = type;
    for (let i = 0; i < 10 && !BASE_TYPES.has(t); i++) {
      const def = dictionary.types.attributes[t];
      if (!def) throw new Error(`OCSF schema: unknown type ${t}`);
      if (def.regex) regexes.push(new RegExp(def.regex));
      values ??= def.values;
      if (!def.type) break;
      t = def.type;
    }
    const own = dictionary.types.attributes[t];
    if (own?.regex) regexes.push(new RegExp(own.regex));
    return { base: t, regexes, values: values ?? own?.values };
  }

  function validate(record: Record<string, unknown>): OcsfIssue[] {
    const issues: OcsfIssue[] = [];
    const add = (kind: OcsfIssueKind, at: string, message: string) =>
      issues.push({ kind, path: at, message });
    const classUid = record.class_uid;
    const cls = typeof classUid === 'number' ? classes.get(classUid) : undefined;
    if (!cls) {
      add('class-unknown', 'class_uid', `no event class ${String(classUid)} in OCSF ${version}`);
      return issues;
    }
    const profiles = new Set(
      Array.isArray((record.metadata as Record<string, unknown> | undefined)?.profiles)
        ? ((record.metadata as Record<string, unknown>).profiles as string[])
        : [],
    );

    function checkScalar(value: unknown, def: AttributeDef, at: string) {
      if (def.type === 'object') {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          add('wrong-type', at, 'expected an object');
        }
        return;
      }
      if (!def.type.endsWith('_t')) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          add('wrong-type', at, `expected a ${def.type} object`);
          return;
        }
        checkObject(value as Record<string, unknown>, objectDef(def.type), at);
        return;
      }
      const { base, regexes, values } = baseType(def.type);
      const ok =
        base === 'json_t'
          ? value !== undefined
          : base === 'string_t'
            ? typeof value === 'string'
            : base === 'boolean_t'
              ? typeof value === 'boolean'
              : base === 'float_t'
                ? typeof value === 'number' && Number.isFinite(value)
                : base === 'integer_t'
                  ? Number.isInteger(value) && Math.abs(value as number) <= 2 ** 31
                  : Number.isSafeInteger(value); // long_t
      if (!ok) {
        add('wrong-type', at, `expected ${def.type} (${base}), got ${JSON.stringify(value)?.slice(0, 60)}`);
        return;
      }
      if (typeof value === 'string' && regexes.some((r) => !r.test(value))) {
        add('wrong-type', at, `${JSON.stringify(value).slice(0, 60)} does not match ${def.type}`);
      }
      if (values && !values.includes(value)) add('wrong-type', at, `not one of ${JSON.stringify(values)}`);
      if (def.enum && !(String(value) in def.enum)) {
        add(
          'enum-unknown',
          at,
          `${JSON.stringify(value)} is not in the enum (${Object.keys(def.enum).join(', ')})`,
        );
      }
    }

    function checkObject(o: Record<string, unknown>, def: Definition, at: string, isClass = false) {
      const prefix = at ? `${at}.` : '';
      for (const [name, attr] of def.attributes) {
        if (o[name] !== undefined && o[name] !== null) continue;
        if (attr.profile && !profiles.has(attr.profile)) continue;
        if (attr.requirement === 'required')
          add('required-missing', prefix + name, `required by ${def.name}`);
        else if (attr.requirement === 'recommended') {
          add('recommended-missing', prefix + name, `recommended by ${def.name}`);
        }
      }
      for (const [name, value] of Object.entries(o)) {
        const attr = def.attributes.get(name);
        if (!attr) {
          add('unknown-attribute', prefix + name, `${def.name} has no attribute ${name}`);
          continue;
        }
        if (value === null) {
          add('wrong-type', prefix + name, 'null: OCSF attributes are present or absent');
          continue;
        }
        if (attr.isArray) {
          if (!Array.isArray(value)) add('wrong-type', prefix + name, 'expected an array');
          else value.forEach((v, i) => checkScalar(v, attr, `${prefix}${name}[${i}]`));
        } else if (Array.isArray(value)) {
          add('wrong-type', prefix + name, 'expected a single value, not an array');
        } else {
          checkScalar(value, attr, prefix + name);
        }
      }
      const present = (n: string) => o[n] !== undefined && o[n] !== null;
      const { at_least_one: atLeastOne, just_one: justOne } = def.constraints;
      if (atLeastOne && !atLeastOne.some(present)) {
        add('constraint', at || def.name, `at least one of ${atLeastOne.join(', ')}`);
      }
      if (justOne && justOne.filter(present).length !== 1) {
        add('constraint', at || def.name, `exactly one of ${justOne.join(', ')}`);
      }
      if (isClass) {
        if (o.category_uid !== (def as ClassDefinition).categoryUid) {
          add('enum-unknown', 'category_uid', `class ${cls!.classUid} is in category ${cls!.categoryUid}`);
        }
        const activity = o.activity_id;
        const expected = typeof activity === 'number' ? cls!.classUid * 100 + activity : null;
        if (o.type_uid !== expected) {
          add(
            'type_uid-incorrect',
            'type_uid',
            `expected ${expected} (class_uid*100 + activity_id), got ${String(o.type_uid)}`,
          );
        }
      }
    }

    // class_uid, category_uid and type_uid are checked against the class (their enums are computed).
    // class_uid, category_uid and type_uid are checked against the class (their enums are computed).
    const classDef: ClassDefinition = {
      ...cls,
      attributes: new Map(
        [...cls.attributes].map(([n, a]) =>
          ['class_uid', 'category_uid', 'type_uid'].includes(n) ? [n, { ...a, enum: undefined }] : [n, a],
        ),
      ),
    };
    if (record.class_uid !== cls.classUid) add('enum-unknown', 'class_uid', 'not a class of this schema');
    checkObject(record, classDef, '', true);
    return issues;
  }

  return { version, classes, validate };
}
