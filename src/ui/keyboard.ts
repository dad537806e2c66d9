import type { KeyboardEvent } from 'react';

/**
 * Ctrl+Enter (⌘+Enter on a Mac) in a text area submits its form, as in most editors where Enter
 * alone makes a new line — only when the form's submit button is enabled, so the key never
 * starts what the button would not.
 */
export function submitOnModEnter(e: KeyboardEvent<HTMLTextAreaElement>): void {
  if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey)) return;
  const form = e.currentTarget.form;
  const button = form?.querySelector<HTMLButtonElement>('button[type="submit"]');
  if (!form || !button || button.disabled) return;
  e.preventDefault();
  form.requestSubmit(button);
}
