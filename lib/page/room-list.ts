/**
 * The daemon's open notebook rooms (`GET /api/rooms`, with the page's cookie), refreshed every few
 * seconds and on demand, each a link to its notebook; and a form that opens a new one.
 */
import { h, replaceChildren } from "./dom";
import type { View } from "./notebook-view";
import { notebookHash } from "./routes";

/** A room as `/api/rooms` lists it. */
interface RoomSummary {
  notebook_id: string;
  clients: number;
  kernel_status: string;
  env_source: string | null;
}

const REFRESH_MS = 5_000;

/** The list of rooms. */
export class RoomList implements View {
  readonly element: HTMLElement;
  private readonly body = h("tbody");
  private readonly status = h("p", { className: "message", role: "status" });
  private readonly timer: ReturnType<typeof setInterval>;

  constructor() {
    const name = h("input", { className: "new-name", type: "text", placeholder: "notebook name", "aria-label": "New notebook name", required: true });
    const form = h("form", { className: "new-notebook" }, name, h("button", { type: "submit" }, "New notebook"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const id = name.value.trim();
      if (id) location.hash = notebookHash(id);
    });
    this.element = h(
      "section",
      { className: "rooms" },
      h("div", { className: "rooms-header" }, h("h1", {}, "Notebooks"), h("button", { className: "refresh", onclick: () => void this.refresh() }, "Refresh")),
      this.status,
      h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Notebook"), h("th", {}, "Clients"), h("th", {}, "Kernel"), h("th", {}, "Environment"))), this.body),
      form,
    );
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  /** Reads the rooms again. */
  async refresh(): Promise<void> {
    let rooms: RoomSummary[];
    try {
      const response = await fetch("/api/rooms", { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) throw new Error("The daemon refused this page's token: open the URL that `runtimed open` prints");
      if (!response.ok) throw new Error(`The daemon answered HTTP ${response.status}`);
      rooms = ((await response.json()) as { rooms: RoomSummary[] }).rooms;
    } catch (error) {
      this.status.textContent = error instanceof Error ? error.message : String(error);
      return;
    }
    this.status.textContent = rooms.length === 0 ? "No open rooms: open a notebook with `runtimed open`, or start a new one below." : "";
    const sorted = [...rooms].sort((a, b) => a.notebook_id.localeCompare(b.notebook_id));
    replaceChildren(
      this.body,
      ...sorted.map((room) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: notebookHash(room.notebook_id) }, room.notebook_id)),
          h("td", {}, String(room.clients)),
          h("td", { className: "kernel-status", "data-state": room.kernel_status }, room.kernel_status.replace(/_/g, " ")),
          h("td", {}, room.env_source ?? "—"),
        ),
      ),
    );
  }
}
