import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

// A modal on the native <dialog>: the browser traps focus, Escape closes it, and the page behind is
// inert; so it is keyboard usable without a library.
export function Dialog(props: { id: string; title: string; onClose(): void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={`${props.id}-title`}
      onClose={props.onClose}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <div class="dialog-head">
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </div>
      {props.children}
    </dialog>
  );
}
