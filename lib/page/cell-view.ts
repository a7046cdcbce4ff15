/**
 * One cell on the page: its prompt (execution count, or `*` running / `-` queued), its editor,
 * its live outputs, and buttons to run and delete it.
 */
import type { Subscription } from "rxjs";
import type { Cell, Session } from "../browser";
import { CellEditor } from "./cell-editor";
import { h } from "./dom";
import { OutputArea } from "./output-area";

/** Where a cell stands in the room's queue. */
export type CellQueueState = "running" | "queued" | "idle";

/** A cell's view, kept in step with the document by the notebook view. */
export class CellView {
  readonly element: HTMLElement;
  private readonly editor: CellEditor;
  private readonly outputs = new OutputArea();
  private readonly prompt = h("span", { className: "prompt" });
  private readonly subscriptions: Subscription[] = [];
  private executionCount: number | null;
  private queueState: CellQueueState = "idle";

  constructor(
    private readonly session: Session,
    private cell: Cell,
    private readonly report: (error: unknown) => void,
  ) {
    this.executionCount = cell.executionCount;
    this.editor = new CellEditor(cell.source, {
      edited: (source) => this.guard(() => session.setSource(cell.id, source)),
      run: () => this.run(),
    });
    const runButton = h("button", { className: "run", title: "Run (Shift+Enter)", "aria-label": "Run cell", onclick: () => this.run() }, "▶");
    const deleteButton = h("button", { className: "delete", title: "Delete cell", "aria-label": "Delete cell", onclick: () => this.guard(() => session.deleteCell(cell.id)) }, "✕");
    this.element = h(
      "div",
      { className: `cell ${cell.cellType}`, "data-cell-id": cell.id },
      h("div", { className: "cell-gutter" }, this.prompt, runButton),
      h("div", { className: "cell-main" }, this.editor.element, this.outputs.element),
      h("div", { className: "cell-tools" }, cell.cellType === "code" ? null : h("span", { className: "cell-type" }, cell.cellType), deleteButton),
    );
    this.renderPrompt();
    this.subscriptions.push(session.outputs$(cell.id).subscribe((outputs) => this.outputs.show(outputs)));
  }

  get id(): string {
    return this.cell.id;
  }

  /** The document's version of the cell changed (or may have). */
  update(cell: Cell): void {
    this.cell = cell;
    this.editor.setSource(cell.source);
    this.executionCount = cell.executionCount;
    this.renderPrompt();
  }

  /** Whether the cell runs or waits now. */
  setQueueState(state: CellQueueState): void {
    if (state === this.queueState) return;
    this.queueState = state;
    this.renderPrompt();
  }

  focus(): void {
    this.editor.focus();
  }

  /** Sizes the editor to its text; called once the view is in the document. */
  fit(): void {
    this.editor.fit();
  }

  /**
   * Runs the cell (the daemon starts the kernel if none runs). Watched, not owned: leaving the
   * page stops watching, the cell runs on, as it would for any other client.
   */
  run(): void {
    if (this.cell.cellType !== "code") return;
    this.subscriptions.push(this.session.queue(this.cell.id, { timeoutSecs: 0 }).subscribe({ error: (error: unknown) => this.report(error) }));
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.outputs.dispose();
    this.element.remove();
  }

  private renderPrompt(): void {
    const shown = this.queueState === "running" ? "*" : this.queueState === "queued" ? "-" : (this.executionCount ?? " ");
    this.prompt.textContent = this.cell.cellType === "code" ? `[${shown}]` : "";
    this.element.dataset.state = this.queueState;
  }

  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.report(error);
    }
  }
}
