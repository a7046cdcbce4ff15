import { overWebSocket } from "./over-websocket";

overWebSocket("session.spec", () => require("../session.spec"));
