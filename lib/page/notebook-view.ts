/**
 * One notebook room on the page: a `Session` over the daemon's WebSocket (the page's cookie is
 * its token), the toolbar, and a view per cell kept in document order as the document changes,
 * whoever changed it.
 */
import type { Subscription } from "rxjs";
import { Session, type Cell, type QueueState } from "../browser";
import { CellView, type CellQueueState } from "./cell-view";
import { h } from "./dom";
import { NOTEBOOK_PATH_KEY } from "../notebook/schema";
import { KernelBar } from "./kernel-bar";

/** What the app shell needs of a view. */
export interface View {
  element: HTMLElement;
  dispose(): void;
}

/** The view of notebook `notebookId`. */
export class NotebookView implements View {
  readonly element: HTMLElement;
  private readonly session: Session;
  private readonly bar: KernelBar;
  private readonly cellsElement = h("div", { className: "cells" });
  private readonly message = h("div", { className: "message", role: "status" });
  private readonly hint = h("p", { className: "hint", hidden: true }, "No cells yet: add one with + Cell.");
  private readonly views = new Map<string, CellView>();
  private readonly subscriptions: Subscription[] = [];
  private readonly saveKey = (event: KeyboardEvent) => {
    if (event.key !== "s" || !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    if (this.session.getMetadata(NOTEBOOK_PATH_KEY)) this.save().catch((error: unknown) => this.report(error));
  };
  private queueState: QueueState = { executing: null, queued: [] };

  constructor(readonly notebookId: string) {
    // No token: the daemon served this page and set its cookie, which the WebSocket and blob
    // fetches carry.
    this.session = new Session({ url: location.origin, notebookId });
    const report = (error: unknown) => this.report(error);
    this.bar = new KernelBar(this.session, { addCell: () => this.addCell(), runAll: () => this.runAll(), save: () => this.save(), report });
    this.element = h(
      "section",
      { className: "notebook" },
      h("h1", { className: "notebook-title", title: notebookId }, notebookId),
      this.bar.element,
      this.message,
      this.hint,
      this.cellsElement,
      h("button", { className: "add-cell-below", onclick: () => this.addCell() }, "+ Cell"),
    );
    document.addEventListener("keydown", this.saveKey);
    this.session.connect().then(
      () => this.start(),
      (error: unknown) => this.report(error),
    );
  }

  dispose(): void {
    document.removeEventListener("keydown", this.saveKey);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.bar.dispose();
    for (const view of this.views.values()) view.dispose();
    this.views.clear();
    // Leaving the page must not end a kernel other clients (or a later visit) still use.
    void this.session.close({ shutdownKernel: false }).catch(() => undefined);
  }

  private start(): void {
    this.subscriptions.push(
      this.session.cells$.subscribe((cells) => this.showCells(cells)),
      this.session.queueState$.subscribe((state) => {
        this.queueState = state;
        for (const view of this.views.values()) view.setQueueState(this.cellQueueState(view.id));
      }),
      this.session.events$.subscribe((event) => {
        if (event.type === "kernel_error") this.report(new Error(event.message));
      }),
    );
  }

  /** Brings the cell views in line with the document: new ones made, gone ones dropped, order kept. */
  private showCells(cells: Cell[]): void {
    const present = new Set(cells.map((cell) => cell.id));
    for (const [id, view] of this.views) {
      if (present.has(id)) continue;
      view.dispose();
      this.views.delete(id);
    }
    cells.forEach((cell, index) => {
      let view = this.views.get(cell.id);
      if (view) view.update(cell);
      else {
        view = new CellView(this.session, cell, (error) => this.report(error));
        view.setQueueState(this.cellQueueState(cell.id));
        this.views.set(cell.id, view);
      }
      const atIndex = this.cellsElement.children[index];
      if (atIndex === view.element) return;
      const isNew = !view.element.isConnected;
      this.cellsElement.insertBefore(view.element, atIndex ?? null);
      if (isNew) view.fit();
    });
    this.hint.hidden = cells.length > 0;
  }

  private cellQueueState(cellId: string): CellQueueState {
    if (this.queueState.executing?.cellId === cellId) return "running";
    return this.queueState.queued.some((entry) => entry.cellId === cellId) ? "queued" : "idle";
  }

  private addCell(): void {
    const id = this.session.createCell("");
    this.views.get(id)?.focus();
  }

  /** Queues every code cell in document order; the daemon runs them one after another. */
  private runAll(): void {
    for (const cell of this.session.getCells()) if (cell.source.trim() !== "") this.views.get(cell.id)?.run();
  }

  /** Writes the notebook to the .ipynb file its room is linked to, on the daemon's machine. */
  private async save(): Promise<void> {
    const file = await this.session.save();
    this.notice(`Saved ${file}`);
  }

  /** Shows what went wrong, in words, until the next problem replaces it. */
  private report(error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    this.message.textContent = text;
    this.message.classList.remove("notice");
  }

  private notice(text: string): void {
    this.message.textContent = text;
    this.message.classList.add("notice");
  }
}
