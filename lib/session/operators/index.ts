export { displayData } from "./display-data";
export { outputs } from "./outputs";
export { stderr } from "./stderr";
export { stdout } from "./stdout";
export { streamText } from "./stream-text";
export { toResult } from "./to-result";
