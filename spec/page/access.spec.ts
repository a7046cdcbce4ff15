/**
 * The page in Chromium: who may load it (the token, then its cookie), what it lists, and that a
 * page of another origin cannot open the daemon's WebSocket even when it knows the token.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { pageUrl } from "../../lib/protocol/page-url";
import { daemonFiles } from "../../lib/transport/paths";
import { describeInChromium, eventually } from "./page-harness";

jest.setTimeout(180_000);

describeInChromium("the daemon's page in a browser", (harness) => {
  it("loads with the token, takes the token out of the address bar, and keeps working with its cookie alone", async () => {
    const { url, token, newPage } = harness();
    const page = await newPage();
    const response = await page.goto(pageUrl(url, token));
    expect(response?.status()).toBe(200);
    await page.locator(".rooms h1").waitFor();
    expect(page.url()).toBe(url);
    const cookies = await page.context().cookies(url);
    expect(cookies).toEqual([expect.objectContaining({ name: `runtimed-token-${new URL(url).port}`, value: token, httpOnly: true, sameSite: "Strict" })]);
    // The script cannot read its cookie, so nothing on the page can leak the token.
    expect(await page.evaluate("document.cookie")).toBe("");
    const again = await page.goto(url);
    expect(again?.status()).toBe(200);
    await page.locator(".rooms h1").waitFor();
  });

  it("is refused without the token: HTTP 401 and no app", async () => {
    const { url, newPage } = harness();
    const page = await newPage();
    const response = await page.goto(url);
    expect(response?.status()).toBe(401);
    expect(await page.locator("#app").count()).toBe(0);
    expect(await page.locator("body").innerText()).toBe("401 Unauthorized");
    const wrong = await page.goto(pageUrl(url, "0".repeat(64)));
    expect(wrong?.status()).toBe(401);
    expect(await page.context().cookies(url)).toEqual([]);
  });

  it("lists the open rooms, and a room's link opens its notebook", async () => {
    const { url, token, room, newPage } = harness();
    const session = room.session({ notebookId: "listed <b>room</b>" });
    await session.connect();
    const cellId = session.createCell("print('listed')");
    await session.flush();
    const page = await newPage();
    await page.goto(pageUrl(url, token));
    const link = page.getByRole("link", { name: "listed <b>room</b>" });
    await link.waitFor();
    // The id is shown as text, never as markup.
    expect(await page.locator(".rooms b").count()).toBe(0);
    await link.click();
    await page.locator(".kernel-bar .connection[data-state=connected]").waitFor({ timeout: 60_000 });
    expect(decodeURIComponent(new URL(page.url()).hash)).toBe("#/notebook/listed <b>room</b>");
    expect(await page.locator(`.cell[data-cell-id="${cellId}"] textarea`).inputValue()).toBe("print('listed')");
  });

  it("creates a new notebook from its name; the daemon then lists that room", async () => {
    const { url, token, newPage } = harness();
    const page = await newPage();
    await page.goto(pageUrl(url, token));
    await page.locator(".new-name").fill("made in the page");
    await page.getByRole("button", { name: "New notebook" }).click();
    await page.locator(".kernel-bar .connection[data-state=connected]").waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: "+ Cell" }).first().click();
    await page.keyboard.type("1 + 1");
    const session = harness().room.session({ notebookId: "made in the page" });
    await session.connect();
    await eventually(async () => (await session.sync(), session.getCells().map((cell) => cell.source)), ["1 + 1"]);
    const rooms = (await (await fetch(`${url}api/rooms`, { headers: { authorization: `token ${token}` } })).json()) as { rooms: { notebook_id: string }[] };
    expect(rooms.rooms.map((entry) => entry.notebook_id)).toContain("made in the page");
  });

  it("a page from another origin cannot open the daemon's WebSocket, even with the token", async () => {
    const { url, token, room, newPage } = harness();
    const daemonPort = new URL(url).port;
    // The script records what its WebSocket saw, in the DOM, once the socket has closed.
    const html = `<!doctype html><title>elsewhere</title><body><script>
      const seen = [];
      const socket = new WebSocket("ws://127.0.0.1:${daemonPort}/ws?token=${token}");
      socket.onopen = () => seen.push("open");
      socket.onerror = () => seen.push("error");
      socket.onclose = () => { seen.push("close"); document.body.dataset.result = seen.join(","); };
    </script></body>`;
    const other = http.createServer((_request, response) => {
      response.setHeader("content-type", "text/html; charset=utf-8");
      response.end(html);
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
      expect(new URL(otherUrl).origin).not.toBe(new URL(url).origin);
      const page = await newPage();
      await page.goto(otherUrl);
      await page.locator("body[data-result]").waitFor({ state: "attached", timeout: 30_000 });
      expect(await page.locator("body").getAttribute("data-result")).toBe("error,close");
      // Refused for its origin (the token was right): the daemon's log says so.
      await eventually(() => fs.readFileSync(daemonFiles(room.cacheDir).log, "utf8").includes("Origin not allowed"), true);
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
