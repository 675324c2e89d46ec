/**
 * A real SMTP server that accepts every message and keeps it, so tests can read
 * what the notification service sent. It speaks SMTP on SMTP_PORT and serves
 * the received messages as JSON on SMTP_API_PORT (GET /messages?to=, DELETE /messages).
 */
import http from 'node:http';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

interface ReceivedMessage {
  id: number;
  from: string;
  to: string[];
  subject: string;
  text: string;
  messageId: string | undefined;
  receivedAt: string;
}

/**
 * A message as it arrived. It is parsed when a reader first asks for it, not when it arrives: a bench
 * sends thousands that nobody reads, and parsing was a third of this process's CPU per mail.
 */
interface Stored {
  envelope: Pick<ReceivedMessage, 'id' | 'from' | 'to' | 'receivedAt'>;
  raw: Buffer;
  parsed?: Promise<ReceivedMessage>;
}

const smtpPort = Number(process.env.SMTP_PORT ?? 2525);
const apiPort = Number(process.env.SMTP_API_PORT ?? 2526);
const messages: Stored[] = [];
let nextId = 1;

function parsed(message: Stored): Promise<ReceivedMessage> {
  message.parsed ??= simpleParser(message.raw).then((mail) => ({
    ...message.envelope,
    subject: mail.subject ?? '',
    text: mail.text ?? '',
    messageId: mail.messageId,
  }));
  return message.parsed;
}

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', callback);
    stream.once('end', () => {
      messages.push({
        envelope: {
          id: nextId++,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          receivedAt: new Date().toISOString(),
        },
        raw: Buffer.concat(chunks),
      });
      callback();
    });
  },
});

const api = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  } else if (url.pathname === '/messages' && req.method === 'GET') {
    const to = url.searchParams.get('to');
    const selected = to ? messages.filter((m) => m.envelope.to.includes(to)) : messages;
    Promise.all(selected.map(parsed)).then(
      (received) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received)),
      (error: unknown) =>
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`a stored message did not parse: ${String(error)}`),
    );
  } else if (url.pathname === '/messages' && req.method === 'DELETE') {
    messages.length = 0;
    res.writeHead(204).end();
  } else {
    res.writeHead(404).end();
  }
});

smtp.listen(smtpPort, '127.0.0.1');
api.listen(apiPort, '127.0.0.1');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    api.close();
    smtp.close(() => process.exit(0));
  });
}
