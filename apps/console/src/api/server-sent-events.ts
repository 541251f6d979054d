/** One server-sent event: its name (`message` when the stream names none) and its data lines joined. */
export interface ServerSentEvent {
  event: string;
  data: string;
}

/**
 * Reads a `text/event-stream` as it arrives, chunk by chunk (a chunk may end
 * in the middle of a line or of an event). EventSource would do this, but it
 * cannot send the Authorization header the console's API client adds, so the
 * console reads the stream through that client and frames events here
 * (WHATWG HTML, "event stream interpretation"; `id` and `retry` are not used).
 *
 * @example
 * const parser = new EventStreamParser();
 * parser.push('event: log\ndata: "hel');  // []
 * parser.push('lo"\n\n');                 // [{ event: 'log', data: '"hello"' }]
 */
export class EventStreamParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];

  push(chunk: string): ServerSentEvent[] {
    this.#buffer += chunk;
    const events: ServerSentEvent[] = [];
    let end: number;
    while ((end = this.#buffer.search(/\r\n|\r|\n/)) >= 0) {
      // A lone `\r` at the end of a chunk may be the first half of `\r\n`: wait for the next chunk.
      if (this.#buffer[end] === '\r' && end === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + (this.#buffer.startsWith('\r\n', end) ? 2 : 1));
      if (line === '') {
        if (this.#data.length) events.push({ event: this.#event || 'message', data: this.#data.join('\n') });
        this.#event = '';
        this.#data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') this.#event = value;
      else if (field === 'data') this.#data.push(value);
    }
    return events;
  }
}
