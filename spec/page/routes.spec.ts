import { cleanAddress, notebookHash, parseRoute } from "../../lib/page/routes";

describe("the page's addresses", () => {
  it("a notebook id, even an absolute path with spaces and #, survives the hash both ways", () => {
    const id = "/home/ada/my work/#1 analysis.ipynb";
    expect(parseRoute(notebookHash(id))).toEqual({ view: "notebook", notebookId: id });
  });

  it("anything else is the room list", () => {
    expect(parseRoute("")).toEqual({ view: "rooms" });
    expect(parseRoute("#/")).toEqual({ view: "rooms" });
    expect(parseRoute("#/notebook/%E0%A4%A")).toEqual({ view: "rooms" });
  });

  it("the token leaves the address; `notebook` becomes the hash; other parameters stay", () => {
    expect(cleanAddress("http://127.0.0.1:8765/?token=abc")).toBe("/");
    expect(cleanAddress("http://127.0.0.1:8765/?notebook=%2Ftmp%2Fa.ipynb&token=abc")).toBe("/#/notebook/%2Ftmp%2Fa.ipynb");
    expect(cleanAddress("http://127.0.0.1:8765/?token=abc&theme=dark#/notebook/x")).toBe("/?theme=dark#/notebook/x");
  });
});
