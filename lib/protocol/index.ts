export * from "./errors";
export * from "./frame";
export * from "./codec";
export * from "./messages";
export * from "./paths";
export * from "./version";
export * from "./framed-socket";
export * from "./stream-append";
