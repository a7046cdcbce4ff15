import { createHmac, createSecretKey } from "node:crypto";
import { createMessage, deserialize, serialize, WireError, type JupyterMessage } from "../../lib/kernel/wire";

const key = "0123456789abcdef0123456789abcdef";

function sampleMessage(): JupyterMessage {
  const parent = createMessage("execute_request", { code: "1+1" }, "session-a");
  const message = createMessage("execute_result", { data: { "text/plain": "2" }, execution_count: 1 }, "session-b", parent);
  message.metadata = { note: "ünïcode ✓" };
  message.buffers = [Buffer.from([0, 1, 2, 255])];
  return message;
}

describe("wire", () => {
  test("createMessage fills a v5.3 header and points parent_header at the parent", () => {
    const parent = createMessage("execute_request", { code: "x" }, "s");
    const reply = createMessage("input_reply", { value: "v" }, "s", parent);
    expect(reply.header).toMatchObject({ msg_type: "input_reply", session: "s", version: "5.3" });
    expect(typeof reply.header.msg_id).toBe("string");
    expect(reply.header.msg_id).not.toBe(parent.header.msg_id);
    expect(reply.parent_header.msg_id).toBe(parent.header.msg_id);
    expect(parent.parent_header).toEqual({});
  });

  test("a message survives serialize then deserialize", () => {
    const message = sampleMessage();
    const decoded = deserialize(serialize(message, key), key);
    expect(decoded.header).toEqual(message.header);
    expect(decoded.parent_header).toEqual(message.parent_header);
    expect(decoded.metadata).toEqual(message.metadata);
    expect(decoded.content).toEqual(message.content);
    expect(decoded.buffers).toEqual(message.buffers);
    expect(decoded.identities).toEqual([]);
  });

  test("the signature is HMAC-SHA256 over header, parent header, metadata and content", () => {
    const frames = serialize(sampleMessage(), key);
    expect(frames[0].toString()).toBe("<IDS|MSG>");
    const expected = createHmac("sha256", key).update(frames[2]).update(frames[3]).update(frames[4]).update(frames[5]).digest("hex");
    expect(frames[1].toString()).toBe(expected);
  });

  test("a prepared KeyObject signs the same as the key string", () => {
    const message = sampleMessage();
    const fromString = serialize(message, key);
    const fromKeyObject = serialize(message, createSecretKey(Buffer.from(key)));
    expect(fromKeyObject[1]).toEqual(fromString[1]);
    expect(deserialize(fromKeyObject, key).header.msg_id).toBe(message.header.msg_id);
  });

  test("a wrong key, a tampered part or a mangled signature is rejected", () => {
    const frames = serialize(sampleMessage(), key);
    expect(() => deserialize(frames, "another key")).toThrow(WireError);

    const tampered = [...frames];
    tampered[5] = Buffer.from(JSON.stringify({ data: { "text/plain": "3" } }));
    expect(() => deserialize(tampered, key)).toThrow(/signature/);

    const shortSignature = [...frames];
    shortSignature[1] = Buffer.from("abc");
    expect(() => deserialize(shortSignature, key)).toThrow(/signature/);

    const unsigned = [...frames];
    unsigned[1] = Buffer.alloc(0);
    expect(() => deserialize(unsigned, key)).toThrow(/signature/);
  });

  test("routing identities before the delimiter are preserved both ways", () => {
    const message = sampleMessage();
    message.identities = [Buffer.from("kernel.abc.execute_result"), Buffer.from([7, 8, 9])];
    const frames = serialize(message, key);
    expect(frames.slice(0, 3).map((frame) => frame.toString("hex"))).toEqual([
      Buffer.from("kernel.abc.execute_result").toString("hex"),
      "070809",
      Buffer.from("<IDS|MSG>").toString("hex"),
    ]);
    expect(deserialize(frames, key).identities).toEqual(message.identities);
  });

  test("an empty key turns signing off", () => {
    const frames = serialize(sampleMessage(), "");
    expect(frames[1].length).toBe(0);
    expect(deserialize(frames, "").content).toEqual(sampleMessage().content);
  });

  test("frames without a delimiter, too few frames or non-object JSON are rejected", () => {
    const frames = serialize(sampleMessage(), key);
    expect(() => deserialize(frames.slice(1), key)).toThrow(/delimiter/);
    expect(() => deserialize(frames.slice(0, 5), key)).toThrow(/too few/);

    const notJson = serialize(sampleMessage(), "");
    notJson[5] = Buffer.from("{not json");
    expect(() => deserialize(notJson, "")).toThrow(/not JSON/);

    const array = serialize(sampleMessage(), "");
    array[5] = Buffer.from("[1,2]");
    expect(() => deserialize(array, "")).toThrow(/not a JSON object/);

    const noMsgType = serialize(sampleMessage(), "");
    noMsgType[2] = Buffer.from(JSON.stringify({ msg_id: "x" }));
    expect(() => deserialize(noMsgType, "")).toThrow(/msg_type/);
  });

  test("missing optional header fields are defaulted rather than dropped", () => {
    const frames = serialize(sampleMessage(), "");
    frames[2] = Buffer.from(JSON.stringify({ msg_id: "m", msg_type: "status" }));
    const header = deserialize(frames, "").header;
    expect(header).toEqual({ msg_id: "m", msg_type: "status", session: "", username: "", date: "", version: "" });
  });
});
