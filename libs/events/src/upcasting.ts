import { EVENT_SCHEMA_VERSIONS, type EventType } from '@ddnn/contracts';
import { UpcastError } from './errors';

/** Turns the payload of `type` at `fromVersion` into the payload at `fromVersion + 1`. */
export interface Upcaster {
  type: EventType;
  fromVersion: number;
  upcast(data: unknown): unknown;
}

/**
 * Upcasters of the catalogue, oldest first. Rule (docs/events.md): a changed payload gets
 * EVENT_SCHEMA_VERSIONS[type] + 1 and one upcaster from the previous version here; stored rows are never rewritten.
 */
export const CATALOGUE_UPCASTERS: readonly Upcaster[] = [];

/** Brings stored payloads to the current schema version by chaining upcasters, one version at a time. */
export class Upcasters {
  private readonly byKey = new Map<string, Upcaster>();

  constructor(
    upcasters: readonly Upcaster[] = CATALOGUE_UPCASTERS,
    readonly currentVersions: Readonly<Record<string, number>> = EVENT_SCHEMA_VERSIONS,
  ) {
    for (const u of upcasters) {
      const key = `${u.type}@${u.fromVersion}`;
      if (this.byKey.has(key)) throw new Error(`two upcasters for ${u.type} version ${u.fromVersion}`);
      this.byKey.set(key, u);
    }
  }

  /** The current schema version of a type; throws for a type outside the catalogue. */
  currentVersion(type: string): number {
    const v = this.currentVersions[type];
    if (v === undefined) throw new UpcastError(`unknown event type '${type}': not in the event catalogue`);
    return v;
  }

  /** The payload upcast to the current version of its type. */
  upcast(type: string, version: number, data: unknown): unknown {
    const target = this.currentVersion(type);
    if (version > target) {
      throw new UpcastError(`${type} stored at schema version ${version}, newer than this code's version ${target}`);
    }
    let out = data;
    for (let v = version; v < target; v++) {
      const u = this.byKey.get(`${type}@${v}`);
      if (!u) throw new UpcastError(`no upcaster for ${type} from schema version ${v} to ${v + 1}`);
      out = u.upcast(out);
    }
    return out;
  }
}
