export * from "./errors";
export * from "./frame";
export * from "./codec";
export * from "./messages";
export * from "./version";
export * from "./stream-append";
