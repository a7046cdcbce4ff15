// Specs import lib/session directly: give them what the `runtimed` entry gives a Node program.
import "../lib/transport/node-platform";
