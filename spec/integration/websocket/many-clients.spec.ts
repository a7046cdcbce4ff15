import { overWebSocket } from "./over-websocket";

overWebSocket("many-clients.spec", () => require("../many-clients.spec"));
