import { loadStackSettings } from '../../src/settings';

/** A message the local stack's SMTP sink received (stack/src/smtp-sink.ts). */
export interface SinkMessage {
  to: string[];
  subject: string;
  text: string;
  messageId?: string;
}

/** Every message the SMTP sink received for `address`, oldest first. */
export async function mailTo(address: string): Promise<SinkMessage[]> {
  const response = await fetch(
    `http://127.0.0.1:${loadStackSettings().ECOM_PORT_SMTP_API}/messages?to=${encodeURIComponent(address)}`,
  );
  if (!response.ok) throw new Error(`SMTP sink: ${response.status}`);
  return (await response.json()) as SinkMessage[];
}
