/** Topic port: fan-out notifications (Amazon SNS). */
export interface Topic {
  readonly name: string;
  /** Resolves with a message id once the notification is accepted for delivery. */
  publish(notification: Notification): Promise<string>;
}

export interface Notification {
  /** Short summary (SNS `Subject`, at most 100 characters). */
  readonly subject: string;
  /** The message, usually JSON. */
  readonly message: string;
}
