// A text field bound to a collaborative text in an Automerge document. Each keystroke
// becomes a splice made *at the version the person was looking at* (`changeAt` those
// heads), so an edit that arrived from someone else between the last render and the
// keystroke is merged, never overwritten; a remote edit keeps the local caret where it was
// in the text around it.

import { useLayoutEffect, useRef } from "preact/hooks";
import { Automerge, type DocHandle, type UrlHeads } from "@automerge/automerge-repo/slim";

type Path = (string | number)[];

/** Reads the string at `path` (text, string or absent). */
export function textAt(doc: unknown, path: Path): string {
  let v: any = doc;
  for (const p of path) v = v?.[p];
  return v == null ? "" : String(v);
}

/** The single splice that turns `before` into `after`: (start, deleted, inserted). */
export function diff(before: string, after: string): [number, number, string] {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before[endB - 1] === after[endA - 1]) {
    endB--;
    endA--;
  }
  return [start, endB - start, after.slice(start, endA)];
}

/** How an edit from `before` to `after` moves a caret at `at`. */
export function moveCaret(before: string, after: string, at: number): number {
  const [start, deleted, inserted] = diff(before, after);
  if (at <= start) return at;
  if (at >= start + deleted) return at + inserted.length - deleted;
  return start + inserted.length;
}

interface Props {
  handle: DocHandle<any>;
  doc: unknown;
  path: Path;
  label: string;
  /** Says what changed, for the document's history ("edited Objective"). */
  message: string;
  readOnly?: boolean;
  rows?: number;
  id: string;
  hint?: string;
  /** Makes the place to write inside the change and returns its path (default: `path`). */
  prepare?: (d: any) => Path;
}

/** A labelled, collaboratively edited text area. */
export function CollabText({ handle, doc, path, label, message, readOnly, rows = 3, id, hint, prepare }: Props) {
  const ref = useRef<HTMLTextAreaElement>(null);
  // What the field shows and the document version it was shown from.
  const shown = useRef<string | null>(null);
  const base = useRef<UrlHeads | null>(null);
  const value = textAt(doc, path);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    // The handle's latest state, not the render's snapshot: a keystroke may have come since.
    const now = textAt(handle.doc(), path);
    base.current = handle.heads();
    shown.current = now;
    if (el.value === now) return;
    const focused = document.activeElement === el;
    const [s, e] = [el.selectionStart, el.selectionEnd];
    const before = el.value;
    el.value = now;
    if (focused) el.setSelectionRange(moveCaret(before, now, s), moveCaret(before, now, e));
  }, [value, handle]);
  const onInput = () => {
    const el = ref.current;
    if (!el || readOnly || shown.current === null || base.current === null) return;
    const [start, deleted, inserted] = diff(shown.current, el.value);
    const heads = handle.changeAt(
      base.current,
      (d: any) => {
        const at = prepare ? prepare(d) : (ensureParents(d, path), path);
        Automerge.splice(d, at, start, deleted, inserted);
      },
      { message },
    );
    shown.current = el.value;
    if (heads) base.current = heads;
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <textarea
        id={id}
        ref={ref}
        rows={rows}
        defaultValue={value}
        readOnly={readOnly}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onInput={onInput}
      />
    </div>
  );
}

/** Makes the maps on the way to `path` (a field absent from a document reads as its default). */
export function ensureParents(d: any, path: Path) {
  let v = d;
  for (const p of path.slice(0, -1)) {
    if (v[p] == null) v[p] = {};
    v = v[p];
  }
  const last = path[path.length - 1];
  if (v[last] == null) v[last] = "";
}
