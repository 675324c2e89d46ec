/** A message template: `{{key}}` placeholders filled from the event's data. */
export interface Template {
  subject: string;
  body: string;
}

/**
 * The messages notification sends, by name. Event-driven ones are named after
 * their event; `notification_send` names one of these (or `custom`) itself.
 */
export const templates: Readonly<Record<string, Template>> = {
  welcome: {
    subject: 'Welcome to ecom-micro, {{name}}',
    body: 'Hello {{name}},\n\nyour account {{email}} is ready. Happy shopping!\n\n— ecom-micro',
  },
  order_created: {
    subject: 'We received your order {{orderId}}',
    body: 'Hello {{name}},\n\nthanks for your order {{orderId}} of {{total}}. We are reserving your items and charging your payment method now.\n\n— ecom-micro',
  },
  payment_failed: {
    subject: 'Payment failed for order {{orderId}}',
    body: 'Hello {{name}},\n\nwe could not charge your payment method for order {{orderId}}: {{reason}}.\n\n— ecom-micro',
  },
  order_paid: {
    subject: 'Your order {{orderId}} is confirmed',
    body: 'Hello {{name}},\n\nwe received your payment of {{total}}: your order {{orderId}} is paid and confirmed. We will let you know when it ships.\n\n— ecom-micro',
  },
  order_cancelled: {
    subject: 'Your order {{orderId}} was cancelled',
    body: 'Hello {{name}},\n\nyour order {{orderId}} was cancelled: {{reason}}. Any charge has been refunded and nothing was shipped.\n\n— ecom-micro',
  },
  password_changed: {
    subject: 'Your password was changed',
    body: 'Hello {{name}},\n\nthe password of your account was changed. If this was not you, contact support.\n\n— ecom-micro',
  },
  custom: {
    subject: '{{subject}}',
    body: '{{text}}',
  },
};

/** Formats minor units as money, e.g. 1999 EUR → €19.99. */
/** One formatter per currency: building an Intl.NumberFormat costs ~0.2 ms, more than the mail's other work. */
const moneyFormats = new Map<string, { format: Intl.NumberFormat; digits: number }>();

export function formatMoney(amount: number, currency: string): string {
  try {
    let money = moneyFormats.get(currency);
    if (!money) {
      const format = new Intl.NumberFormat('en', { style: 'currency', currency });
      money = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 };
      moneyFormats.set(currency, money);
    }
    return money.format.format(amount / 10 ** money.digits);
  } catch {
    return `${amount} ${currency} (minor units)`;
  }
}

export interface Rendered {
  subject: string;
  body: string;
}

/** Fills a template; a missing value becomes an empty string, never `undefined` in a customer's inbox. */
export function render(name: string, data: Record<string, unknown>): Rendered | undefined {
  const template = templates[name];
  if (!template) return undefined;
  const fill = (text: string) =>
    text.replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
      const value = data[key];
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : '';
    });
  return {
    subject: fill(template.subject)
      .replace(/[\r\n]+/g, ' ')
      .trim(),
    body: fill(template.body),
  };
}
