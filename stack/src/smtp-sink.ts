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

const smtpPort = Number(process.env.SMTP_PORT ?? 2525);
const apiPort = Number(process.env.SMTP_API_PORT ?? 2526);
const messages: ReceivedMessage[] = [];
let nextId = 1;

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((mail) => {
        messages.push({
          id: nextId++,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: mail.subject ?? '',
          text: mail.text ?? '',
          messageId: mail.messageId,
          receivedAt: new Date().toISOString(),
        });
        callback();
      })
      .catch((error: unknown) => {
        callback(error instanceof Error ? error : new Error(String(error)));
      });
  },
});

const api = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  } else if (url.pathname === '/messages' && req.method === 'GET') {
    const to = url.searchParams.get('to');
    const selected = to ? messages.filter((m) => m.to.includes(to)) : messages;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(selected));
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
