import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, Topic } from '../../ports/topic.js';

/** How to reach one SNS topic. */
export interface SnsTopicOptions {
  readonly client: SNSClient;
  /** Logical name (`alerts`, ...). */
  readonly name: string;
  readonly topicArn: string;
}

// SNS rejects a longer Subject outright; an alert must not be lost to a long title.
const MAX_SUBJECT_LENGTH = 100;

/** The {@link Topic} port on Amazon SNS; fan-out to subscribers is SNS's. */
export class SnsTopic implements Topic {
  readonly name: string;
  private readonly client: SNSClient;
  private readonly topicArn: string;

  constructor(options: SnsTopicOptions) {
    this.client = options.client;
    this.name = options.name;
    this.topicArn = options.topicArn;
  }

  async publish(notification: Notification): Promise<string> {
    const response = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: notification.subject.slice(0, MAX_SUBJECT_LENGTH),
        Message: notification.message,
      }),
    );
    if (response.MessageId === undefined) throw new Error(`SNS Publish to ${this.name} returned no MessageId`);
    return response.MessageId;
  }
}
