import { pageUrl } from "../../lib/protocol/page-url";

describe("pageUrl", () => {
  it("puts the token in the query of the page's URL", () => {
    expect(pageUrl("http://127.0.0.1:8765/", "abc123")).toBe("http://127.0.0.1:8765/?token=abc123");
    expect(pageUrl("http://[::1]:8765", "abc")).toBe("http://[::1]:8765/?token=abc");
  });

  it("adds other parameters before the token, escaped", () => {
    expect(pageUrl("http://127.0.0.1:8765/", "t", { notebook: "my notebook/1" })).toBe("http://127.0.0.1:8765/?notebook=my+notebook%2F1&token=t");
  });
});
