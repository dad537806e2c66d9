import { useId, useRef, useState, type DragEvent, type ReactNode } from 'react';

/**
 * A place to drop files, which is also a button that opens the file picker (Enter or
 * Space, like any button). `onDrop` gets the raw DataTransfer so folders can be walked.
 */
export function DropZone({ label, accept, directory, multiple, disabled, onFiles, onDrop, children, testId }: {
  label: string;
  accept?: string;
  directory?: boolean;
  multiple?: boolean;
  disabled?: boolean;
  onFiles(files: File[]): void;
  onDrop?(data: DataTransfer): void;
  children?: ReactNode;
  testId?: string;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const hintId = useId();
  const directoryProps = directory ? { webkitdirectory: '', directory: '' } : {};

  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (disabled) return;
    if (onDrop) onDrop(e.dataTransfer);
    else onFiles([...e.dataTransfer.files]);
  };

  return (
    <div
      className={`drop-zone${over ? ' over' : ''}${disabled ? ' disabled' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <button type="button" className="drop-button" disabled={disabled} aria-describedby={hintId}
        onClick={() => input.current?.click()}>
        {label}
      </button>
      <span id={hintId} className="drop-hint">{children}</span>
      <input
        ref={input}
        type="file"
        className="visually-hidden"
        tabIndex={-1}
        aria-hidden="true"
        accept={accept}
        multiple={multiple || directory}
        data-testid={testId}
        {...directoryProps}
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          if (files.length) onFiles(files);
        }}
      />
    </div>
  );
}
