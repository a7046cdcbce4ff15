/**
 * Outputs on the page, as Chromium shows them: images that load (inline and through a blob over
 * HTTP with the page's cookie), HTML in a sandbox it cannot leave, terminal colours without any
 * markup from the kernel, errors, display updates; and the screenshot the README shows.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as nbformat from "@jupyterlab/nbformat";
import type { Page } from "playwright-core";
import { cellLocator, describeInChromium, eventually, openNotebook } from "./page-harness";

jest.setTimeout(240_000);

// A PNG encoder in a few lines of the standard library, so no test needs matplotlib or PIL.
const PNG_HELPER = `
import random, struct, zlib
from IPython.display import Image, display

def png(width, height, pixel):
    rows = b"".join(b"\\0" + bytes(v for x in range(width) for v in pixel(x, y)) for y in range(height))
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
`;

// The HTML output's script tries to reach the page, its cookie and the daemon, and writes what happened.
const ESCAPING_HTML = `
from IPython.display import HTML, display
display(HTML("""<p id="inside">waiting</p><script>
let verdict;
try { verdict = "reached the page: " + parent.document.title; } catch (error) { verdict = "blocked: " + error.name; }
try { parent.runtimedReached = true; } catch (error) {}
document.getElementById("inside").textContent = verdict;
fetch("/api/rooms").then(() => { document.body.dataset.fetch = "answered"; }, () => { document.body.dataset.fetch = "refused"; });
</script>"""))
`;

// What the README's screenshot shows: a progress bar, colours, a hand-made PNG.
const DEMO_CELLS = [
  [
    "import time",
    "for i in range(21):",
    "    print(f\"\\rtraining  {'█' * i}{'░' * (20 - i)}  {5 * i:3d}%\", end='', flush=True)",
    "    time.sleep(0.05)",
    "print('  done')",
  ].join("\n"),
  [
    "print('\\033[1;32m✔ 128 passed\\033[0m   \\033[1;33m⚠ 2 warnings\\033[0m   \\033[1;31m✘ 1 failed\\033[0m')",
    "print(''.join(f'\\033[48;5;{c}m   ' for c in (196, 202, 208, 214, 220, 226, 190, 154, 118, 82, 46, 49, 51, 45, 39, 33, 27, 21, 57, 93, 129, 165, 201)) + '\\033[0m')",
  ].join("\n"),
  [
    "import struct, zlib",
    "from IPython.display import Image",
    "w, h = 460, 70",
    'rows = b"".join(b"\\0" + bytes(v for x in range(w) for v in (255 * x // w, 80 + y, 255 - 255 * x // w)) for y in range(h))',
    'chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))',
    'Image(data=b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))',
    '      + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""), format="png")',
  ].join("\n"),
];

/** The natural width of the `<img>` output of a cell once it has loaded (0 while it has not). */
function naturalWidth(page: Page, cellId: string): Promise<number> {
  return cellLocator(page, cellId)
    .locator("img.output-image")
    .evaluate((img: { complete: boolean; naturalWidth: number }) => (img.complete ? img.naturalWidth : 0));
}

describeInChromium("outputs on the page", (harness) => {
  it("PNGs from IPython.display.Image load as <img>: a small inline one and a large one read as a blob over HTTP with the page's cookie", async () => {
    const session = await harness().nodeSession("page-images");
    expect((await session.run(PNG_HELPER, { timeoutSecs: 150 })).success).toBe(true);
    const page = await harness().newPage();
    const blobAnswers: number[] = [];
    page.on("response", (response) => {
      if (/\/blob\/[0-9a-f]{64}$/.test(response.url())) blobAnswers.push(response.status());
    });
    await openNotebook(page, harness(), "page-images");

    const small = session.createCell("display(Image(data=png(4, 3, lambda x, y: (255, 60 * x, 80 * y)), format='png'))");
    const large = session.createCell(
      "random.seed(7)\ndisplay(Image(data=png(64, 64, lambda x, y: (random.randrange(256), random.randrange(256), random.randrange(256))), format='png'))",
    );
    const [smallResult, largeResult] = [await session.executeCell(small, { timeoutSecs: 150 }), await session.executeCell(large, { timeoutSecs: 150 })];
    const payload = (result: typeof smallResult) => String((result.displayData[0] as nbformat.IDisplayData).data["image/png"]);
    expect(payload(smallResult).length).toBeLessThan(8192);
    expect(payload(largeResult).length).toBeGreaterThan(8192);

    await eventually(() => naturalWidth(page, small), 4);
    await eventually(() => naturalWidth(page, large), 64);
    expect(await cellLocator(page, large).locator("img.output-image").getAttribute("src")).toMatch(/^blob:http:\/\/127\.0\.0\.1:\d+\//);
    // The large payload is not in the document: the page fetched it from /blob/<sha256>.
    expect(blobAnswers).toContain(200);
    expect(blobAnswers.filter((status) => status !== 200 && status !== 304)).toEqual([]);
  });

  it("text/html runs in a sandboxed iframe whose script cannot reach the page, its cookie or the daemon", async () => {
    const session = await harness().nodeSession("page-html");
    const page = await harness().newPage();
    await openNotebook(page, harness(), "page-html");
    const cellId = session.createCell(ESCAPING_HTML);
    expect((await session.executeCell(cellId, { timeoutSecs: 150 })).success).toBe(true);

    const frame = cellLocator(page, cellId).locator("iframe.output-html");
    await frame.waitFor();
    expect(await frame.getAttribute("sandbox")).toBe("allow-scripts");
    const inside = page.frameLocator(`.cell[data-cell-id="${cellId}"] iframe.output-html`);
    await eventually(() => inside.locator("#inside").innerText(), "blocked: SecurityError");
    await eventually(() => inside.locator("body").getAttribute("data-fetch"), "refused");
    expect(await page.evaluate("window.runtimedReached")).toBeUndefined();
    // The output's markup is only in the frame, never in the page itself.
    expect(await page.locator("#inside").count()).toBe(0);
  });

  it("stream text keeps its ANSI colours and shows kernel markup as text; errors show name, value and traceback; SVG is an image; a display updates in place", async () => {
    const session = await harness().nodeSession("page-kinds");
    const page = await harness().newPage();
    await openNotebook(page, harness(), "page-kinds");
    const colours = session.createCell(`print("\\x1b[31mred\\x1b[0m <b>not bold</b> <img src=x onerror=\\"window.runtimedReached=1\\">")`);
    const failing = session.createCell("1 / 0");
    const svg = session.createCell(
      [
        "from IPython.display import SVG, display",
        `display(SVG('<svg xmlns="http://www.w3.org/2000/svg" width="30" height="12"><rect width="30" height="12" fill="teal"/><script>parent.runtimedReached = 1</script></svg>'))`,
      ].join("\n"),
    );
    const updated = session.createCell("handle = display('first', display_id=True)\nhandle.update('second')");
    for (const cellId of [colours, failing, svg, updated]) await session.executeCell(cellId, { timeoutSecs: 150 });

    const stream = cellLocator(page, colours).locator(".output-stream");
    await stream.waitFor();
    expect(await stream.locator("span", { hasText: "red" }).getAttribute("style")).toMatch(/color:rgb\(/);
    expect(await stream.innerText()).toBe('red <b>not bold</b> <img src=x onerror="window.runtimedReached=1">\n');
    expect(await stream.locator("b, img").count()).toBe(0);

    const error = cellLocator(page, failing).locator(".output-error");
    await error.waitFor();
    expect(await error.locator(".error-name").innerText()).toBe("ZeroDivisionError: division by zero");
    expect(await error.locator(".error-traceback").innerText()).toContain("ZeroDivisionError");
    expect(await error.locator(".error-traceback span[style]").count()).toBeGreaterThan(0);

    await eventually(() => naturalWidth(page, svg), 30);
    expect(await cellLocator(page, svg).locator("svg").count()).toBe(0);

    await eventually(() => cellLocator(page, updated).locator(".output").allInnerTexts(), ["'second'"]);
    expect(await page.evaluate("window.runtimedReached")).toBeUndefined();
  });

  it("a notebook with a progress bar, colours and an image, as the README shows it (docs/page.png with RUNTIMED_UPDATE_SCREENSHOT=1)", async () => {
    const session = await harness().nodeSession("analysis.ipynb");
    const cellIds = DEMO_CELLS.map((source) => session.createCell(source));
    const page = await harness().newPage({ viewport: { width: 1000, height: 700 } });
    await openNotebook(page, harness(), "analysis.ipynb");
    for (const cellId of cellIds) expect((await session.executeCell(cellId, { timeoutSecs: 150 })).success).toBe(true);
    await eventually(() => naturalWidth(page, cellIds[2]!), 460);
    await cellLocator(page, cellIds[0]!).locator(".output-stream", { hasText: "done" }).waitFor();
    await page.locator(".cell[data-state=running]").waitFor({ state: "detached" });

    const target = process.env.RUNTIMED_UPDATE_SCREENSHOT === "1" ? path.join(__dirname, "..", "..", "docs", "page.png") : path.join(os.tmpdir(), `runtimed-page-${process.pid}.png`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const png = await page.screenshot({ path: target });
    try {
      // A PNG of the viewport: its IHDR holds width and height.
      expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1000, 700]);
    } finally {
      if (process.env.RUNTIMED_UPDATE_SCREENSHOT !== "1") fs.rmSync(target, { force: true });
    }
  });
}, "are not tested here");
