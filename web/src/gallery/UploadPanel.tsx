/**
 * @module Upload by file picker or drag-and-drop, with a progress bar per file;
 * disabled, with the reason shown, while writes are paused.
 */
import { type DragEvent, useId, useState } from 'react';
import type { Photo } from '../api';
import { UPLOAD_TYPES } from '../api/upload';
import { resumesWhen } from '../app/writes';
import { useUploads } from './useUploads';

export function UploadPanel({ onUploaded }: { onUploaded(photo: Photo): void }) {
  const { items, add, clearFinished, busy, paused } = useUploads(onUploaded);
  const [dragging, setDragging] = useState(false);
  const inputId = useId();
  const reasonId = useId();

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    if (paused) return;
    const files = [...e.dataTransfer.files];
    if (files.length) add(files);
  }

  return (
    <section
      className={`upload${dragging && !paused ? ' dragging' : ''}${paused ? ' paused' : ''}`}
      aria-labelledby={`${inputId}-title`}
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = paused ? 'none' : 'copy';
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <h2 id={`${inputId}-title`}>Upload photos</h2>
      <p className="muted small">Drop images here, or choose them. JPEG, PNG, WebP or GIF.</p>
      <input
        id={inputId}
        className="visually-hidden"
        type="file"
        accept={UPLOAD_TYPES.join(',')}
        multiple
        disabled={!!paused}
        aria-describedby={paused ? reasonId : undefined}
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          if (files.length) add(files);
        }}
      />
      <label htmlFor={inputId} className={`button${paused ? ' disabled' : ''}`}>
        Choose photos
      </label>
      {paused && (
        <p id={reasonId} className="paused-reason">
          {paused.reason} {resumesWhen(paused.kind, 'Uploads')}
        </p>
      )}
      {items.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {items.map((it) => (
            <li key={it.id}>
              <span className="upload-name">{it.name}</span>
              {it.status === 'failed' ? (
                <span className="error-text" role="alert">
                  {it.error}
                </span>
              ) : (
                <progress max={1} value={it.progress} aria-label={`Upload of ${it.name}`}>
                  {Math.round(it.progress * 100)}%
                </progress>
              )}
              <span className="small muted">
                {it.status === 'done'
                  ? 'Uploaded'
                  : it.status === 'waiting'
                    ? paused
                      ? 'Waiting for writes to resume'
                      : 'Waiting'
                    : it.status === 'uploading'
                      ? `${Math.round(it.progress * 100)}%`
                      : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
      {items.length > 0 && !busy && (
        <button type="button" className="link" onClick={clearFinished}>
          Clear the list
        </button>
      )}
    </section>
  );
}
