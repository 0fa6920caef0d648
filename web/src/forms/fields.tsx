// The pieces the inquiry forms share: a string-scalar field (committed when the person
// leaves it, since a scalar does not merge keystroke by keystroke), lists of short codes
// with add/remove, lists of collaborative texts, checklists of linked documents, the
// network's catalogue, and the privacy guidance.

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { CollabText } from "../components/CollabText";
import { cachedCatalog, fetchCatalog, type Meta } from "../catalog";
import type { Session } from "../session";
import { find, type Replica } from "../repo";
import type { DocKind } from "../gen/nic/v1/common_pb";
import { t } from "../i18n";
import { href } from "../route";
import { kindName } from "../i18n";
import { sv } from "../model";

/** The network's documents (as this device last saw them, then as the hub says). */
export function useCatalog(session: Session, networkId: string): Meta[] {
  const [docs, setDocs] = useState<Meta[]>(() => cachedCatalog(session, networkId) ?? []);
  useEffect(() => {
    let live = true;
    fetchCatalog(session, networkId).then(
      (d) => live && setDocs(d),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [networkId]);
  return docs;
}

/** The content of the network's document of `kind` (network-level first), following changes;
 * `undefined` while there is none or it has not loaded. */
export function useNetworkDoc(session: Session, replica: Replica, networkId: string, kind: DocKind): any {
  const docs = useCatalog(session, networkId);
  const meta = docs.find((d) => d.kind === kind && !d.siteId) ?? docs.find((d) => d.kind === kind);
  const docId = meta?.docId ?? "";
  const [doc, setDoc] = useState<any>(undefined);
  useEffect(() => {
    if (!docId) return;
    let live = true;
    let handle: DocHandle<any> | undefined;
    const on = () => live && handle && setDoc(handle.doc());
    find<any>(replica, docId).then(
      (h) => {
        handle = h;
        h.on("change", on);
        on();
      },
      () => {},
    );
    return () => {
      live = false;
      handle?.off("change", on);
    };
  }, [replica, docId]);
  return doc;
}

interface StringProps {
  id: string;
  label: string;
  value: string;
  readOnly: boolean;
  onCommit: (v: string) => void;
  hint?: string;
  type?: "text" | "date";
  list?: string;
  /** Says what is wrong with a value, or "" (the value is then not written). */
  check?: (v: string) => string;
}

/** A labelled input for a string scalar: written when the person leaves it or presses Enter. */
export function StringField({ id, label, value, readOnly, onCommit, hint, type = "text", list, check }: StringProps) {
  const ref = useRef<HTMLInputElement>(null);
  const [problem, setProblem] = useState("");
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && document.activeElement !== el && el.value !== value) el.value = value;
  }, [value]);
  const commit = () => {
    const v = (ref.current?.value ?? "").trim();
    if (v === value) return setProblem("");
    const why = check ? check(v) : "";
    setProblem(why);
    if (!why) onCommit(v);
  };
  const described = [hint ? `${id}-hint` : "", problem ? `${id}-problem` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <input
        id={id}
        ref={ref}
        type={type}
        list={list}
        defaultValue={value}
        readOnly={readOnly}
        aria-invalid={problem ? true : undefined}
        aria-describedby={described}
        onChange={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            commit();
          }
        }}
      />
      {problem && (
        <p role="alert" class="error" id={`${id}-problem`}>
          {problem}
        </p>
      )}
    </div>
  );
}

/** A visually hidden continuation of a button's text, naming what it acts on. */
const Also = ({ text }: { text: string }) => <span class="sr-only"> {text}</span>;

interface TagProps {
  id: string;
  legend: string;
  values: string[];
  readOnly: boolean;
  onAdd: (v: string) => void;
  onRemove: (v: string) => void;
  suggestions?: string[];
  hint?: string;
  addLabel: string;
  check?: (v: string) => string;
  /** How a value reads to people (default: as written). */
  show?: (v: string) => string;
}

/** A list of short codes (themes, student groups, equity codes): each removable, one to add. */
export function TagList({ id, legend, values, readOnly, onAdd, onRemove, suggestions = [], hint, addLabel, check, show = (v) => v }: TagProps) {
  const [draft, setDraft] = useState("");
  const [problem, setProblem] = useState("");
  const offered = suggestions.filter((s) => !values.includes(s));
  const add = (e: Event) => {
    e.preventDefault();
    const v = draft.trim();
    if (!v) return;
    const why = check ? check(v) : "";
    setProblem(why);
    if (why) return;
    onAdd(v);
    setDraft("");
  };
  return (
    <fieldset class="tags" id={id}>
      <legend>{legend}</legend>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {values.length === 0 ? (
        <p class="muted">{t("forms.none_yet")}</p>
      ) : (
        <ul class="taglist">
          {values.map((v) => (
            <li key={v}>
              <span class="tag">{show(v)}</span>
              {!readOnly && (
                <button type="button" class="link" onClick={() => onRemove(v)}>
                  {t("forms.remove")}
                  <Also text={show(v)} />
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {!readOnly && (
        <div class="inline">
          <label for={`${id}-new`}>{addLabel}</label>
          <input
            id={`${id}-new`}
            list={offered.length ? `${id}-options` : undefined}
            value={draft}
            aria-describedby={[hint ? `${id}-hint` : "", problem ? `${id}-problem` : ""].filter(Boolean).join(" ") || undefined}
            aria-invalid={problem ? true : undefined}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => e.key === "Enter" && add(e)}
          />
          {offered.length > 0 && (
            <datalist id={`${id}-options`}>
              {offered.map((s) => (
                <option key={s} value={s} />
              ))}
            </datalist>
          )}
          <button type="button" onClick={add}>
            {t("forms.add")}
          </button>
          {problem && (
            <p role="alert" class="error" id={`${id}-problem`}>
              {problem}
            </p>
          )}
        </div>
      )}
    </fieldset>
  );
}

interface TextListProps {
  id: string;
  legend: string;
  handle: DocHandle<any>;
  doc: unknown;
  /** The list's path in the document. */
  path: (string | number)[];
  /** The path again, worked out inside the change (an entry keyed by id may have moved). */
  prepare?: (d: any) => (string | number)[];
  items: unknown[];
  itemLabel: (n: number) => string;
  addLabel: string;
  message: string;
  readOnly: boolean;
  onAdd: (text: string) => void;
  onRemove: (index: number) => void;
  empty?: string;
  ordered?: boolean;
}

/** A list of collaborative texts (questions asked, answers to "why?"): each its own field. */
export function TextList({ id, legend, handle, doc, path, prepare, items, itemLabel, addLabel, message, readOnly, onAdd, onRemove, empty, ordered }: TextListProps) {
  const [draft, setDraft] = useState("");
  const List = ordered ? "ol" : "ul";
  return (
    <fieldset class="textlist" id={id}>
      <legend>{legend}</legend>
      {items.length === 0 ? (
        <p class="muted">{empty ?? t("forms.none_yet")}</p>
      ) : (
        <List class="entries">
          {items.map((_, i) => (
            <li key={i}>
              <CollabText
                id={`${id}-${i}`}
                handle={handle}
                doc={doc}
                path={[...path, i]}
                prepare={prepare ? (d) => [...prepare(d), i] : undefined}
                label={itemLabel(i + 1)}
                message={message}
                readOnly={readOnly}
                rows={2}
              />
              {!readOnly && (
                <button type="button" class="link" onClick={() => onRemove(i)}>
                  {t("forms.remove")}
                  <Also text={itemLabel(i + 1)} />
                </button>
              )}
            </li>
          ))}
        </List>
      )}
      {!readOnly && (
        <div class="inline">
          <label for={`${id}-new`}>{addLabel}</label>
          <input
            id={`${id}-new`}
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                if (draft.trim()) onAdd(draft.trim());
                setDraft("");
              }
            }}
          />
          <button
            type="button"
            onClick={() => {
              if (draft.trim()) onAdd(draft.trim());
              setDraft("");
            }}
          >
            {t("forms.add")}
          </button>
        </div>
      )}
    </fieldset>
  );
}

interface ChecklistProps {
  id: string;
  legend: string;
  /** The choices: value and what people read. */
  options: { value: string; label: string; docId?: string }[];
  selected: string[];
  readOnly: boolean;
  onToggle: (value: string, on: boolean) => void;
  hint?: string;
  empty: string;
}

/** Checkboxes choosing linked documents (or diagram boxes); links it cannot follow stay listed. */
export function Checklist({ id, legend, options, selected, readOnly, onToggle, hint, empty }: ChecklistProps) {
  const known = new Set(options.map((o) => o.value));
  const unknown = selected.filter((s) => !known.has(s));
  return (
    <fieldset class="checklist" id={id} aria-describedby={hint ? `${id}-hint` : undefined}>
      <legend>{legend}</legend>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {options.length === 0 && unknown.length === 0 && <p class="muted">{empty}</p>}
      <ul class="checks">
        {options.map((o, i) => (
          <li key={o.value}>
            <input type="checkbox" id={`${id}-${i}`} checked={selected.includes(o.value)} disabled={readOnly} onChange={(e) => onToggle(o.value, e.currentTarget.checked)} />
            <label for={`${id}-${i}`} class="check">
              {o.label}
            </label>
            {o.docId && selected.includes(o.value) && (
              <>
                {" "}
                <a href={href({ page: "doc", docId: o.docId })}>
                  {t("forms.open")}
                  <Also text={o.label} />
                </a>
              </>
            )}
          </li>
        ))}
        {unknown.map((u) => (
          <li key={u}>
            <span>{t("forms.unknown_link", { id: u })}</span>{" "}
            {!readOnly && (
              <button type="button" class="link" onClick={() => onToggle(u, false)}>
                {t("forms.remove")}
                <Also text={u} />
              </button>
            )}
          </li>
        ))}
      </ul>
    </fieldset>
  );
}

/** A document's entry as a choice: its title, site and kind. */
export function docOption(m: Meta): { value: string; label: string; docId: string } {
  return { value: m.docId, label: `${m.title || kindName(m.kind)} (${m.siteId || t("doc.network_level")})`, docId: m.docId };
}

/** The privacy rule for everything written about people. */
export function PrivacyNote({ interview }: { interview?: boolean }) {
  return (
    <div class="notice privacy" role="note" aria-labelledby="privacy-h">
      <p>
        <strong id="privacy-h">{t("forms.privacy_title")}</strong> {t("forms.privacy_text")}
      </p>
      {interview && <p>{t("forms.privacy_interview")}</p>}
    </div>
  );
}

/** The string values of a list of string scalars. */
export const strings = (list: unknown): string[] => (Array.isArray(list) ? list.map(sv) : []);
