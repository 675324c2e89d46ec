import nodemailer, { type Transporter } from 'nodemailer';
import { PermanentDeliveryError, type DeliveryReceipt, type Notification } from '../domain/notification';
import type { ChannelProvider } from '../domain/ports';

export interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  from: string;
  timeoutMs: number;
  /** SMTP connections kept open and reused: one per concurrent delivery, not one per message. */
  maxConnections: number;
}

/** Email over SMTP with nodemailer. A 5xx reply (mailbox unknown, rejected) is permanent; anything else is retried. */
export class SmtpEmailProvider implements ChannelProvider {
  readonly channel = 'email' as const;
  private readonly transport: Transporter;

  constructor(private readonly options: SmtpOptions) {
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: options.maxConnections,
      host: options.host,
      port: options.port,
      secure: options.secure,
      ...(options.user ? { auth: { user: options.user, pass: options.password ?? '' } } : {}),
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
    });
  }

  async send(notification: Notification): Promise<DeliveryReceipt> {
    try {
      const info = await this.transport.sendMail({
        from: this.options.from,
        to: notification.recipient,
        subject: notification.subject,
        text: notification.body,
        // One Message-ID per (event, channel): a resend after a crash is recognisable as the same message.
        messageId: `<${notification.id.replace(/[^A-Za-z0-9.-]/g, '.')}@notification.ecom-micro>`,
      });
      return { providerResponse: `${info.response} (${info.messageId})` };
    } catch (error) {
      const code = (error as { responseCode?: unknown }).responseCode;
      if (typeof code === 'number' && code >= 500 && code < 600) {
        throw new PermanentDeliveryError(
          `smtp rejected the message: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      throw error;
    }
  }

  async verify(): Promise<void> {
    await this.transport.verify();
  }

  close(): void {
    this.transport.close();
  }
}
