/**
 * @module A modal confirmation (the native <dialog>: focus is trapped, Escape
 * cancels). Mount it to ask; it calls back with the answer.
 */
import { type ReactNode, useEffect, useId, useRef } from 'react';

interface Props {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  children?: ReactNode;
  onConfirm(): void;
  onCancel(): void;
}

export function ConfirmDialog({ title, confirmLabel, danger, children, onConfirm, onCancel }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          onConfirm();
        }}
      >
        <h2 id={titleId}>{title}</h2>
        {children}
        <div className="actions">
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className={danger ? 'danger' : undefined}>
            {confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
