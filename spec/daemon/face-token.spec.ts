import type { IncomingMessage } from "node:http";
import { TokenGate, newToken, tokensEqual } from "../../lib/daemon/face-token";

/** Just the headers a gate reads: the gate is pure over them. */
function requestWith(headers: IncomingMessage["headers"]): IncomingMessage {
  return { headers } as IncomingMessage;
}

describe("newToken", () => {
  it("makes 64 hex digits (256 bits), different every time", () => {
    const tokens = new Set(Array.from({ length: 100 }, () => newToken()));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("tokensEqual", () => {
  it("is true only for the same token, whatever the other's length", () => {
    const token = newToken();
    expect(tokensEqual(token, token)).toBe(true);
    expect(tokensEqual(token.slice(0, 63), token)).toBe(false);
    expect(tokensEqual(token + "0", token)).toBe(false);
    expect(tokensEqual("", token)).toBe(false);
    expect(tokensEqual(token.toUpperCase(), token)).toBe(false);
  });
});

describe("TokenGate", () => {
  const token = newToken();
  const gate = new TokenGate(token, 8765);
  const none = new URLSearchParams();

  it("finds the token in the header, the query or its cookie, and says where", () => {
    expect(gate.check(requestWith({ authorization: `token ${token}` }), none)).toBe("header");
    expect(gate.check(requestWith({}), new URLSearchParams(`a=1&token=${token}`))).toBe("query");
    expect(gate.check(requestWith({ cookie: `other=1; runtimed-token-8765=${token}; x=y` }), none)).toBe("cookie");
  });

  it("accepts a request when any one of several presented tokens is right", () => {
    const request = requestWith({ cookie: `runtimed-token-8765=stale; runtimed-token-8765=${token}` });
    expect(gate.check(request, new URLSearchParams("token=wrong"))).toBe("cookie");
  });

  it("refuses other daemons' cookies and malformed headers", () => {
    expect(gate.check(requestWith({ cookie: `runtimed-token-8766=${token}` }), none)).toBeNull();
    expect(gate.check(requestWith({ cookie: `xruntimed-token-8765=${token}` }), none)).toBeNull();
    expect(gate.check(requestWith({ authorization: `token ${token} extra` }), none)).toBeNull();
    expect(gate.check(requestWith({}), none)).toBeNull();
  });

  it("issues a session cookie that scripts cannot read and other sites do not send", () => {
    expect(gate.cookie()).toBe(`runtimed-token-8765=${token}; Path=/; HttpOnly; SameSite=Strict`);
  });
});
