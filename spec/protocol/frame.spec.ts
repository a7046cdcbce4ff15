import { decodeMessage, encodeMessage } from "../../lib/protocol/codec";
import { RuntimedError } from "../../lib/protocol/errors";
import { encodeFrame, FrameDecoder } from "../../lib/protocol/frame";
import { decodeHandshake, decodeRequest } from "../../lib/protocol/messages";

describe("framing", () => {
  it("splits frames delivered one byte at a time", () => {
    const frames = [Buffer.from("a"), Buffer.alloc(0), Buffer.from("hello world")].map(encodeFrame);
    const bytes = Buffer.concat(frames);
    const decoder = new FrameDecoder();
    const out: string[] = [];
    for (const byte of bytes) out.push(...decoder.push(Buffer.from([byte])).map((f) => Buffer.from(f).toString()));
    expect(out).toEqual(["a", "", "hello world"]);
    expect(decoder.pendingBytes).toBe(0);
  });

  it("splits several frames arriving in one chunk", () => {
    const bytes = Buffer.concat([encodeFrame(Buffer.from("x")), encodeFrame(Buffer.from("yz"))]);
    expect(new FrameDecoder().push(bytes).map((f) => f.toString())).toEqual(["x", "yz"]);
  });

  it("rejects a declared length over the limit before buffering it", () => {
    const decoder = new FrameDecoder(16);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(17);
    expect(() => decoder.push(header)).toThrow(/exceeds/);
  });
});

describe("codec and decoders", () => {
  it("round-trips maps, arrays, binary and unicode", () => {
    const value = { id: 3, action: "execute_cell", heads: ["ab", "cd"], text: "héllo ✓", bytes: new Uint8Array([1, 2]) };
    expect(decodeMessage(encodeMessage(value))).toEqual({ ...value, bytes: Buffer.from([1, 2]) });
  });

  it("undecodable bytes are a PROTOCOL error", () => {
    expect(() => decodeMessage(Buffer.from([0x92, 0x01]))).toThrow(RuntimedError);
  });

  it("checks handshakes", () => {
    expect(decodeHandshake({ channel: "notebook_sync", notebook_id: "n", protocol: 1 })).toEqual({
      channel: "notebook_sync",
      notebook_id: "n",
      protocol: 1,
    });
    expect(() => decodeHandshake({ channel: "notebook_sync", protocol: 1 })).toThrow(/notebook_id/);
    expect(() => decodeHandshake("hi")).toThrow(/handshake/);
  });

  it("checks request fields and keeps the id of a bad request", () => {
    const ok = decodeRequest({ id: 1, action: "execute_cell", cell_id: "c", execution_id: "e", heads: [] }, "notebook_sync");
    expect(ok.action).toBe("execute_cell");
    try {
      decodeRequest({ id: 7, action: "execute_cell", cell_id: 5 }, "notebook_sync");
      throw new Error("should have thrown");
    } catch (error) {
      expect((error as RuntimedError).code).toBe("BAD_REQUEST");
      expect((error as RuntimedError & { requestId?: number }).requestId).toBe(7);
    }
    expect(() => decodeRequest({ id: 1, action: "shutdown" }, "notebook_sync")).toThrow(/not served/);
  });

  it("takes an optional boolean allow_stdin on execute_cell", () => {
    const base = { id: 2, action: "execute_cell", cell_id: "c", execution_id: "e", heads: [] };
    expect(decodeRequest({ ...base, allow_stdin: false }, "notebook_sync")).toMatchObject({ allow_stdin: false });
    expect(decodeRequest(base, "notebook_sync")).not.toHaveProperty("allow_stdin");
    expect(() => decodeRequest({ ...base, allow_stdin: "no" }, "notebook_sync")).toThrow(/allow_stdin must be boolean \(optional\)/);
  });
});
