/**
 * The daemon's web page: the room list at `#/`, a live notebook at `#/notebook/<id>`. Built on
 * `runtimed/browser` (lib/browser.ts), bundled by scripts/build-page.cjs into dist/page/, and
 * served by the daemon at `/` behind its token.
 */
import { h, replaceChildren } from "./dom";
import { NotebookView, type View } from "./notebook-view";
import { RoomList } from "./room-list";
import { cleanAddress, parseRoute } from "./routes";

// First of all: the daemon has set the cookie by now, so the token leaves the address bar and history.
history.replaceState(null, "", cleanAddress(location.href));

const main = h("main");
let current: View | undefined;

/** Shows the view the hash asks for, closing the one before. */
function route(): void {
  current?.dispose();
  const target = parseRoute(location.hash);
  current = target.view === "notebook" ? new NotebookView(target.notebookId) : new RoomList();
  document.title = target.view === "notebook" ? `${target.notebookId} · runtimed` : "runtimed";
  replaceChildren(main, current.element);
}

const app = document.getElementById("app") ?? document.body;
replaceChildren(app, h("header", {}, h("a", { className: "home", href: "#/" }, "runtimed")), main);
window.addEventListener("hashchange", route);
window.addEventListener("pagehide", () => current?.dispose());
// Back from the browser's page cache, the view's session is closed: open it again.
window.addEventListener("pageshow", (event) => event.persisted && route());
route();
