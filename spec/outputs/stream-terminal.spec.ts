import { StreamTerminal } from "../../lib/outputs/stream-terminal";

async function render(...chunks: string[]): Promise<string> {
  const terminal = new StreamTerminal();
  try {
    let text = "";
    for (const chunk of chunks) text = await terminal.write(chunk);
    expect(terminal.text).toBe(text);
    return text;
  } finally {
    terminal.dispose();
  }
}

describe("StreamTerminal", () => {
  describe("plain text", () => {
    it("keeps text without a newline exactly", async () => {
      expect(await render("abc")).toBe("abc");
    });

    it("keeps trailing newlines exactly and adds none", async () => {
      expect(await render("a\nb\n")).toBe("a\nb\n");
      expect(await render("a\n\n\n")).toBe("a\n\n\n");
      expect(await render("\n")).toBe("\n");
      expect(await render("")).toBe("");
    });

    it("round-trips unicode, tabs and trailing spaces byte for byte", async () => {
      const text = "héllo\twörld 日本語 😀 e\u0301  \n\tindented\n  trailing   ";
      expect(await render(text)).toBe(text);
      expect(await render(...text.split(""))).toBe(text);
    });

    it("concatenates many small chunks", async () => {
      const chunks = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`);
      expect(await render(...chunks)).toBe(chunks.join(""));
    });

    it("keeps a 500-character line as one line", async () => {
      const line = "x".repeat(250) + "y".repeat(250);
      expect(await render(line + "\n")).toBe(line + "\n");
      // Through the terminal too (a `\r` forces it), and longer than the terminal is wide.
      expect(await render(line + "\r\n")).toBe(line + "\n");
      const long = "0123456789".repeat(120);
      expect(await render(long + "\r\n", "next\r\n")).toBe(`${long}\nnext\n`);
    });

    it("keeps all of 100 000 lines written one by one", async () => {
      const terminal = new StreamTerminal();
      let text = "";
      for (let i = 0; i < 100_000; i++) text = await terminal.write(`${i}\n`);
      const lines = text.split("\n");
      expect(lines).toHaveLength(100_001);
      expect(lines[0]).toBe("0");
      expect(lines[99_999]).toBe("99999");
      expect(lines[100_000]).toBe("");
      terminal.dispose();
    });

    it("keeps all of 100 000 lines that go through the terminal in one chunk", async () => {
      const chunk = Array.from({ length: 100_000 }, (_, i) => `${i}\r\n`).join("");
      const text = await render(chunk);
      const expected = Array.from({ length: 100_000 }, (_, i) => `${i}\n`).join("");
      expect(text).toBe(expected);
    });
  });

  describe("carriage return and backspace", () => {
    it("ends a progress bar as its last frame", async () => {
      const frames = [0, 10, 20, 30, 100].map((p) => `\r[${"#".repeat(p / 10).padEnd(10)}] ${p}%`);
      expect(await render(...frames)).toBe("[##########] 100%");
      expect(await render(...frames, "\ndone\n")).toBe("[##########] 100%\ndone\n");
    });

    it("overwrites only as much as the new text covers", async () => {
      expect(await render("abcdef\rXY")).toBe("XYcdef");
    });

    it("rewrites a line written by an earlier plain chunk", async () => {
      expect(await render("downloading 10%", "\rdownloading 99%", "\rdone           \n", "next")).toBe(
        "done           \nnext",
      );
    });

    it("cannot reach lines already ended by a newline", async () => {
      expect(await render("first\n", "\rsecond")).toBe("first\nsecond");
    });

    it("moves back with \\b and lets the next text overwrite", async () => {
      expect(await render("ab\bc")).toBe("ac");
      expect(await render("abc\b\b")).toBe("abc");
      expect(await render("abc\b \b", "\n")).toBe("ab \n");
    });

    it("treats \\r\\n as a newline", async () => {
      expect(await render("a\r\nb\r\n")).toBe("a\nb\n");
    });

    it("handles a \\r at the end of one chunk and the text in the next", async () => {
      expect(await render("50%\r", "75%\r", "100%")).toBe("100%");
      expect(await render("old line\r", "\n")).toBe("old line\n");
    });

    it("erases to the end of the line with ESC[K", async () => {
      expect(await render("long text\r\x1b[Kshort")).toBe("short");
    });

    it("returns to the fast path after the terminal is done", async () => {
      const terminal = new StreamTerminal();
      await terminal.write("50%\r100%\n");
      expect(terminal.tryAppend("plain\n")).toBe("100%\nplain\n");
      terminal.dispose();
    });

    it("keeps a progress bar through 2000 frames", async () => {
      const frames = Array.from({ length: 2000 }, (_, i) => `\r${i + 1}/2000`);
      expect(await render(...frames)).toBe("2000/2000");
    });
  });

  describe("colours", () => {
    it("keeps SGR colours", async () => {
      expect(await render("\x1b[31mred\x1b[0m")).toBe("\x1b[31mred\x1b[0m");
      expect(await render("\x1b[31mred\x1b[0m plain\n")).toBe("\x1b[31mred\x1b[0m plain\n");
    });

    it("keeps bold, bright, 256 and true colours", async () => {
      expect(await render("\x1b[1;92mok\x1b[0m\n")).toBe("\x1b[1;92mok\x1b[0m\n");
      expect(await render("\x1b[38;5;208mo\x1b[0m")).toBe("\x1b[38;5;208mo\x1b[0m");
      expect(await render("\x1b[38;2;1;2;3mt\x1b[0m")).toBe("\x1b[38;2;1;2;3mt\x1b[0m");
    });

    it("closes colours at the end of each line", async () => {
      expect(await render("\x1b[31mred\nmore")).toBe("\x1b[31mred\x1b[0m\n\x1b[31mmore\x1b[0m");
    });

    it("does not carry a colour into text written after a reset", async () => {
      expect(await render("\x1b[31mred\n", "\x1b[0mplain")).toBe("\x1b[31mred\x1b[0m\nplain");
    });

    it("keeps the pen across chunks", async () => {
      expect(await render("\x1b[32m", "green\n", "still\x1b[0m\n")).toBe(
        "\x1b[32mgreen\x1b[0m\n\x1b[32mstill\x1b[0m\n",
      );
    });

    it("assembles an escape sequence split across chunks", async () => {
      expect(await render("\x1b", "[3", "1mred\x1b[", "0m\n")).toBe("\x1b[31mred\x1b[0m\n");
    });

    it("keeps colours in a progress bar", async () => {
      expect(await render("\r\x1b[33m10%\x1b[0m", "\r\x1b[32m100%\x1b[0m")).toBe("\x1b[32m100%\x1b[0m");
    });
  });

  describe("mixed chunks", () => {
    it("gives the same text however a stream is split", async () => {
      const stream = "start\n\x1b[34mloading\x1b[0m 1%\r\x1b[34mloading\x1b[0m 50%\rdone!      \nab\bc\tend\n";
      const whole = await render(stream);
      expect(whole).toBe("start\ndone!      \nac      end\n");
      for (const size of [1, 2, 3, 5, 7]) {
        const chunks: string[] = [];
        for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
        expect(await render(...chunks)).toBe(whole);
      }
    });

    it("applies writes in order without awaiting each", async () => {
      const terminal = new StreamTerminal();
      const results = [terminal.write("a\r"), terminal.write("b\n"), terminal.write("c"), terminal.write("\rd")];
      expect(await Promise.all(results)).toEqual(["a", "b\n", "b\nc", "b\nd"]);
      terminal.dispose();
    });

    it("moves cursor-up rewrites within one chunk", async () => {
      expect(await render("bar 1\nbar 2\x1b[A\rBAR 1\x1b[B\r\n")).toBe("BAR 1\nbar 2\n");
    });

    it("ignores writes after dispose", async () => {
      const terminal = new StreamTerminal();
      await terminal.write("kept\r");
      terminal.dispose();
      expect(await terminal.write("lost")).toBe("kept");
    });
  });
});
