import { useEffect, useState, type ReactNode } from 'react';
import { useModelStore } from '../../state/modelStore';
import { DropZone } from '../DropZone';
import { SegmentedControl } from '../SegmentedControl';
import { droppedFiles, pickedFiles } from './droppedFiles';

type SourceKind = 'files' | 'url' | 'hub';
const KINDS = [
  { value: 'files', label: 'Local folder' },
  { value: 'url', label: 'URL' },
  { value: 'hub', label: 'Hugging Face hub' },
] as const;

/** Load another model: a folder from disk (picked or dropped), a URL, or a hub repo at a revision. */
export function ModelSourceForm({ disabled, disabledReason, children }: {
  disabled: boolean;
  disabledReason: string | null;
  /** Shown under the form: the last load's error. */
  children?: ReactNode;
}) {
  const load = useModelStore((s) => s.load);
  const [kind, setKind] = useState<SourceKind>('files');
  const [url, setUrl] = useState('');
  const [repo, setRepo] = useState('');
  const [revision, setRevision] = useState('main');
  const [open, setOpen] = useState(false);
  // An error from a load opens the form again, so it is seen where the load was asked for.
  const hasMessage = Boolean(children);
  useEffect(() => {
    if (hasMessage) setOpen(true);
  }, [hasMessage]);

  const loadFiles = (files: { name: string; file: File }[]) => {
    if (files.length) void load({ kind: 'files', files });
  };

  return (
    <details className="model-source" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Load another model</summary>
      <p className="help">
        A Hugging Face checkpoint of a Llama, Qwen2 or GPT-2 model: <code>config.json</code>, <code>tokenizer.json</code> and
        <code> model.safetensors</code> (or shards). Float weights are quantized to int8 as they load.
      </p>
      {disabledReason && <p className="muted">{disabledReason}</p>}
      <SegmentedControl<SourceKind> name="model-source" legend="Where the model comes from" options={KINDS} value={kind} onChange={setKind} />
      {kind === 'files' && (
        <DropZone
          label="Choose a model folder…"
          directory
          disabled={disabled}
          onFiles={(files) => loadFiles(pickedFiles(files))}
          onDrop={(data) => void droppedFiles(data).then(loadFiles)}
          testId="model-folder-input"
        >
          or drop the folder (or its files) here
        </DropZone>
      )}
      {kind === 'url' && (
        <form className="inline-form" onSubmit={(e) => {
          e.preventDefault();
          if (url.trim()) void load({ kind: 'url', url: new URL(url.trim(), location.href).href });
        }}>
          <label className="grow">
            Folder URL
            <input type="url" value={url} placeholder="https://example.org/models/my-model/" required
              onChange={(e) => setUrl(e.target.value)} data-testid="model-url" />
          </label>
          <button type="submit" disabled={disabled}>Load</button>
        </form>
      )}
      {kind === 'hub' && (
        <form className="inline-form" onSubmit={(e) => {
          e.preventDefault();
          if (repo.trim()) void load({ kind: 'hub', repo: repo.trim(), revision: revision.trim() || 'main' });
        }}>
          <label className="grow">
            Repository id
            <input value={repo} placeholder="HuggingFaceTB/SmolLM2-135M" required
              title="owner/name, as in the hub's address" onChange={(e) => setRepo(e.target.value)} data-testid="model-repo" />
          </label>
          <label>
            Revision
            <input value={revision} size={10} onChange={(e) => setRevision(e.target.value)} data-testid="model-revision" />
          </label>
          <button type="submit" disabled={disabled}>Load</button>
        </form>
      )}
      {children}
    </details>
  );
}
