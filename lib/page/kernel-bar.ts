/**
 * The notebook's toolbar: connection and kernel status, what the queue holds, and the buttons
 * that act on the whole room (add a cell, run all, interrupt, restart, and save when the room is
 * linked to an .ipynb file, as `runtimed open notebook.ipynb` links it).
 */
import { combineLatest, startWith, type Subscription } from "rxjs";
import type { Session } from "../browser";
import { NOTEBOOK_PATH_KEY } from "../notebook/schema";
import { h } from "./dom";

/** What the toolbar's buttons do. */
export interface KernelBarActions {
  addCell(): void;
  runAll(): void;
  save(): Promise<void>;
  report(error: unknown): void;
}

/** The toolbar of one notebook view. */
export class KernelBar {
  readonly element: HTMLElement;
  private readonly subscriptions: Subscription[];

  constructor(session: Session, actions: KernelBarActions) {
    const connection = h("span", { className: "badge connection" });
    const kernel = h("span", { className: "badge kernel" });
    const queue = h("span", { className: "queue" });
    const act = (action: () => Promise<unknown> | void) => () => {
      try {
        void Promise.resolve(action()).catch(actions.report);
      } catch (error) {
        actions.report(error);
      }
    };
    const save = h("button", { className: "save", title: "Save to the notebook's file (Ctrl+S)", hidden: true, onclick: act(actions.save) }, "Save");
    const startOrRestart = h("button", { className: "restart", onclick: act(() => (session.kernelStarted ? session.restartKernel() : session.startKernel({ notebookPath: session.getMetadata(NOTEBOOK_PATH_KEY) }))) }, "Restart");
    this.element = h(
      "div",
      { className: "kernel-bar" },
      h("button", { className: "add-cell", onclick: act(actions.addCell) }, "+ Cell"),
      h("button", { className: "run-all", onclick: act(actions.runAll) }, "Run all"),
      h("button", { className: "interrupt", onclick: act(() => session.interrupt()) }, "Interrupt"),
      startOrRestart,
      save,
      h("span", { className: "spacer" }),
      queue,
      kernel,
      connection,
    );
    this.subscriptions = [
      session.patches$.pipe(startWith(null)).subscribe(() => {
        const file = session.getMetadata(NOTEBOOK_PATH_KEY);
        save.hidden = !file;
        save.title = file ? `Save to ${file} (Ctrl+S)` : "";
      }),
      combineLatest([session.connection$, session.kernelStatus$, session.queueState$]).subscribe(([connectionState, status, queueState]) => {
        connection.textContent = connectionState;
        connection.dataset.state = connectionState;
        const env = session.envSource ? ` · ${session.envSource}` : "";
        kernel.textContent = `kernel: ${status.replace(/_/g, " ")}${status === "idle" || status === "busy" ? env : ""}`;
        kernel.dataset.state = status;
        startOrRestart.textContent = session.kernelStarted ? "Restart" : "Start kernel";
        const waiting = queueState.queued.length;
        queue.textContent = queueState.executing ? `running 1${waiting ? `, ${waiting} queued` : ""}` : waiting ? `${waiting} queued` : "";
      }),
    ];
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}
