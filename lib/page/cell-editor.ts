/**
 * A cell's source in a textarea. Each keystroke becomes `session.setSource`, which writes the
 * smallest Automerge text splice, so concurrent edits from other clients merge character by
 * character. An edit from elsewhere replaces the text while the caret and selection stay on the
 * characters they were on.
 */
import { mapSelection } from "./caret";
import { h } from "./dom";

/** What the editor asks of its cell. */
export interface CellEditorActions {
  /** The text changed here. */
  edited(source: string): void;
  /** Shift+Enter. */
  run(): void;
}

/** The textarea of one cell. */
export class CellEditor {
  readonly element: HTMLTextAreaElement;

  constructor(source: string, actions: CellEditorActions) {
    this.element = h("textarea", { className: "cell-source", spellcheck: "false", autocapitalize: "off", autocomplete: "off", "aria-label": "Cell source" });
    this.element.value = source;
    this.fit();
    this.element.addEventListener("input", () => {
      this.fit();
      actions.edited(this.element.value);
    });
    this.element.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.shiftKey) {
        event.preventDefault();
        actions.run();
      }
    });
  }

  /** Shows the document's source; a no-op when the textarea already has it (our own edit). */
  setSource(source: string): void {
    const textarea = this.element;
    const before = textarea.value;
    if (before === source) return;
    const focused = document.activeElement === textarea;
    const [start, end] = mapSelection(before, source, textarea.selectionStart, textarea.selectionEnd);
    const direction = textarea.selectionDirection;
    textarea.value = source;
    if (focused) textarea.setSelectionRange(start, end, direction);
    this.fit();
  }

  focus(): void {
    this.element.focus();
  }

  /**
   * Grows the textarea to its content (wrapped lines included), so a cell never scrolls inside
   * itself. Before it is in the document it has no layout: the line count serves until then.
   */
  fit(): void {
    const textarea = this.element;
    textarea.rows = Math.max(1, textarea.value.split("\n").length);
    if (!textarea.isConnected) return;
    textarea.style.height = "auto";
    textarea.style.height = `${textarea.scrollHeight + textarea.offsetHeight - textarea.clientHeight}px`;
  }
}
