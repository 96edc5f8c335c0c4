import type { CSSProperties } from 'react';

/** A select over a fixed list of string options (enums from @ddnn/contracts), typed by that list. */
export function OptionSelect<T extends string>({
  options,
  value,
  onChange,
  name,
  label,
  style,
}: {
  options: readonly T[];
  value: T;
  onChange: (v: T) => void;
  name?: string;
  label?: string;
  style?: CSSProperties;
}) {
  return (
    <select name={name} aria-label={label} value={value} onChange={(e) => onChange(e.target.value as T)} style={style}>
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>
  );
}

/** A select over named choices ({key, label}: a time range, a refresh rate), by key. */
export function KeyedSelect({ options, value, onChange, name }: { options: readonly { key: string; label: string }[]; value: string; onChange: (key: string) => void; name?: string }) {
  return (
    <select name={name} value={value} onChange={(e) => onChange(e.target.value)}>
      {options.map((o) => (
        <option key={o.key} value={o.key}>
          {o.label}
        </option>
      ))}
    </select>
  );
}
