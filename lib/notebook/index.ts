export * from "./schema";
export * from "./cells";
