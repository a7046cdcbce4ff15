import { deserialize as labDeserialize, serialize as labSerialize } from "@jupyterlab/services/lib/kernel/serialize";
import type { KernelMessage } from "@jupyterlab/services";
import { WireError, createMessage, type JupyterMessage } from "../../lib/kernel/wire";
import { V1_SUBPROTOCOL, decodeLegacy, decodeV1, encodeLegacy, encodeV1 } from "../../lib/gateway/ws-codec";

function sampleMessage(buffers: Buffer[] = []): JupyterMessage {
  const parent = createMessage("execute_request", { code: "1+1" }, "session-a");
  const message = createMessage("comm_msg", { comm_id: "c1", data: { value: "héllo ✓" } }, "session-b", parent);
  message.metadata = { tag: 1 };
  message.buffers = buffers;
  return message;
}

function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

/** What JupyterLab's own codec makes of our message (its shape, with buffers as bytes). */
function asLabMessage(message: JupyterMessage, channel: string): KernelMessage.IMessage {
  return {
    channel,
    header: message.header,
    parent_header: message.parent_header,
    metadata: message.metadata,
    content: message.content,
    buffers: message.buffers.map((buffer) => new DataView(toArrayBuffer(buffer))),
  } as unknown as KernelMessage.IMessage;
}

function labBuffers(message: KernelMessage.IMessage): Buffer[] {
  return (message.buffers ?? []).map((view) => Buffer.from((view as DataView).buffer));
}

describe("the v1.kernel.websocket.jupyter.org framing", () => {
  it("a message with buffers survives encoding and decoding unchanged", () => {
    const message = sampleMessage([Buffer.from([0, 1, 2, 255]), Buffer.alloc(0), Buffer.from("tail")]);
    const decoded = decodeV1(encodeV1("shell", message));
    expect(decoded.channel).toBe("shell");
    expect(decoded.message.header).toEqual(message.header);
    expect(decoded.message.parent_header).toEqual(message.parent_header);
    expect(decoded.message.metadata).toEqual({ tag: 1 });
    expect(decoded.message.content).toEqual(message.content);
    expect(decoded.message.buffers.map((b) => [...b])).toEqual([[0, 1, 2, 255], [], [...Buffer.from("tail")]]);
  });

  it("JupyterLab's codec reads what we encode", () => {
    const message = sampleMessage([Buffer.from("abc")]);
    const lab = labDeserialize(toArrayBuffer(encodeV1("iopub", message)), V1_SUBPROTOCOL);
    expect(lab.channel).toBe("iopub");
    expect(lab.header).toEqual(message.header);
    expect(lab.content).toEqual(message.content);
    expect(labBuffers(lab).map((b) => b.toString())).toEqual(["abc"]);
  });

  it("we read what JupyterLab's codec encodes", () => {
    const message = sampleMessage([Buffer.from("xyz"), Buffer.from([9, 8])]);
    const bytes = Buffer.from(labSerialize(asLabMessage(message, "stdin"), V1_SUBPROTOCOL) as ArrayBuffer);
    const decoded = decodeV1(bytes);
    expect(decoded.channel).toBe("stdin");
    expect(decoded.message.header).toEqual(message.header);
    expect(decoded.message.content).toEqual(message.content);
    expect(decoded.message.buffers.map((b) => [...b])).toEqual([[...Buffer.from("xyz")], [9, 8]]);
  });

  it("a message the server makes up with an empty parent decodes with an empty parent", () => {
    const status = createMessage("status", { execution_state: "restarting" }, "server");
    const decoded = decodeV1(encodeV1("iopub", status));
    expect(decoded.message.parent_header).toEqual({});
    expect(decoded.message.parent_header.msg_id).toBeUndefined();
  });

  it("truncated, reordered or non-JSON frames are refused with a WireError", () => {
    const frame = encodeV1("shell", sampleMessage());
    expect(() => decodeV1(frame.subarray(0, 4))).toThrow(WireError);
    expect(() => decodeV1(frame.subarray(0, 40))).toThrow(WireError);
    const reordered = Buffer.from(frame);
    reordered.writeBigUInt64LE(BigInt(frame.length + 10), 16);
    expect(() => decodeV1(reordered)).toThrow(WireError);
    const notJson = Buffer.from(frame);
    notJson[Number(frame.readBigUInt64LE(16))] = 0x7b + 1; // the header's "{" becomes "|"
    expect(() => decodeV1(notJson)).toThrow(WireError);
  });
});

describe("the legacy JSON encoding", () => {
  it("a message without buffers is one JSON text naming its channel", () => {
    const message = sampleMessage();
    const text = encodeLegacy("control", message);
    expect(typeof text).toBe("string");
    expect(JSON.parse(text as string)).toMatchObject({ channel: "control", header: message.header, content: message.content });
    const decoded = decodeLegacy(text, false);
    expect(decoded.channel).toBe("control");
    expect(decoded.message.content).toEqual(message.content);
    expect(decoded.message.buffers).toEqual([]);
  });

  it("a message with buffers uses the binary form, which JupyterLab's codec reads and writes too", () => {
    const message = sampleMessage([Buffer.from("one"), Buffer.from([0, 0, 7])]);
    const frame = encodeLegacy("shell", message) as Buffer;
    expect(Buffer.isBuffer(frame)).toBe(true);
    const lab = labDeserialize(toArrayBuffer(frame));
    expect(lab.header).toEqual(message.header);
    expect(labBuffers(lab).map((b) => [...b])).toEqual([[...Buffer.from("one")], [0, 0, 7]]);

    const labFrame = Buffer.from(labSerialize(asLabMessage(message, "iopub")) as ArrayBuffer);
    const decoded = decodeLegacy(labFrame, true);
    expect(decoded.channel).toBe("iopub");
    expect(decoded.message.content).toEqual(message.content);
    expect(decoded.message.buffers.map((b) => [...b])).toEqual([[...Buffer.from("one")], [0, 0, 7]]);
  });

  it("a text without a channel or a header is refused with a WireError", () => {
    expect(() => decodeLegacy(JSON.stringify({ header: { msg_id: "a", msg_type: "status" }, content: {} }), false)).toThrow(WireError);
    expect(() => decodeLegacy(JSON.stringify({ channel: "iopub", header: {}, content: {} }), false)).toThrow(WireError);
    expect(() => decodeLegacy("not json", false)).toThrow(WireError);
    expect(() => decodeLegacy(Buffer.from([0, 0, 0, 9]), true)).toThrow(WireError);
  });
});
