import { overWebSocket } from "./over-websocket";

overWebSocket("reactive.spec", () => require("../reactive.spec"));
