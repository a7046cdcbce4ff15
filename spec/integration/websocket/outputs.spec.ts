import { overWebSocket } from "./over-websocket";

overWebSocket("outputs.spec", () => require("../outputs.spec"));
