import { useEffect, useState, type InputHTMLAttributes } from 'react';

/**
 * A number field that lets the user type freely ("0.", "1e-") and passes on only numbers
 * that parse and fit; the text snaps back to the value in force when the field loses focus.
 */
export function NumberInput({ value, onValue, integer, min, max, ...rest }: {
  value: number;
  onValue(value: number): void;
  integer?: boolean;
  min?: number;
  max?: number;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'min' | 'max' | 'type'>) {
  const [text, setText] = useState(String(value));
  const [focused, setFocused] = useState(false);
  useEffect(() => {
    if (!focused) setText(String(value));
  }, [value, focused]);
  const parsed = Number(text);
  const valid = text.trim() !== '' && Number.isFinite(parsed) && (!integer || Number.isInteger(parsed))
    && (min === undefined || parsed >= min) && (max === undefined || parsed <= max);
  return (
    <input
      {...rest}
      type="text"
      inputMode={integer ? 'numeric' : 'decimal'}
      className={`num ${rest.className ?? ''}`}
      value={text}
      aria-invalid={!valid || undefined}
      onFocus={() => setFocused(true)}
      onBlur={() => {
        setFocused(false);
        setText(String(value));
      }}
      onChange={(e) => {
        setText(e.target.value);
        const n = Number(e.target.value);
        if (e.target.value.trim() !== '' && Number.isFinite(n) && (!integer || Number.isInteger(n))
          && (min === undefined || n >= min) && (max === undefined || n <= max)) onValue(n);
      }}
    />
  );
}
