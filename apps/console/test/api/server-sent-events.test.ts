import { EventStreamParser } from '../../src/api/server-sent-events';

describe('reading a server-sent event stream', () => {
  it('frames events that arrive split across chunks, with any line ending', () => {
    const parser = new EventStreamParser();
    expect(parser.push('event: log\ndata: "hel')).toEqual([]);
    expect(parser.push('lo"\r')).toEqual([]);
    expect(parser.push('\n\r\n: a comment\nevent: end\ndata: {"status"')).toEqual([{ event: 'log', data: '"hello"' }]);
    expect(parser.push(':"succeeded"}\n\n')).toEqual([{ event: 'end', data: '{"status":"succeeded"}' }]);
  });

  it('joins data lines and names an unnamed event "message"', () => {
    expect(new EventStreamParser().push('data: one\ndata:two\n\n')).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });
});
