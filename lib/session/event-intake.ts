import type { Broadcast } from "../protocol/messages";
import { LiveStreams } from "./live-streams";
import type { OutputDecoder } from "./output-decoder";
import { toRoomEvent } from "./room-events";
import type { RoomEvent } from "./types";

/**
 * Turns the room's broadcasts into room events, in order. An output whose payload is a blob the
 * session must fetch (a client on another machine) holds the events after it until the blob is
 * here, so every output event carries its whole output.
 */
export class EventIntake {
  private readonly streams = new LiveStreams();
  private readonly waiting: { message: Broadcast; blobs: string[] }[] = [];
  private pumping = false;

  constructor(
    private readonly outputs: OutputDecoder,
    private readonly deliver: (event: RoomEvent) => void,
  ) {}

  receive(message: Broadcast): void {
    const blobs = message.event === "output" || message.event === "display_update" ? this.outputs.missing([message.output]) : [];
    if (this.waiting.length === 0 && blobs.length === 0) return this.emit(message);
    this.waiting.push({ message, blobs });
    void this.pump();
  }

  /** A new connection: the daemon restates the streams of a running cell on it. */
  reset(): void {
    this.streams.clear();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiting.length > 0) {
        const { message, blobs } = this.waiting[0]!;
        await this.outputs.whenResolved(blobs);
        this.waiting.shift();
        this.emit(message);
      }
    } finally {
      this.pumping = false;
    }
  }

  private emit(message: Broadcast): void {
    const event = toRoomEvent(message, (encoded) => this.outputs.decode(encoded), this.streams);
    this.deliver(event);
    if (event.type === "execution_done" || (event.type === "clear_outputs" && event.executionId !== null)) this.streams.forget(event.executionId!);
  }
}
