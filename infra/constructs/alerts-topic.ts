import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ACCOUNT_KEY_ACTIONS, TOPIC_KEY_PUBLISH_ACTIONS } from './notifications.js';

/** Properties of {@link AlertsTopic}. */
export interface AlertsTopicProps {
  /** Topic `<namePrefix>-alerts`, key alias `alias/<namePrefix>-alerts`. */
  readonly namePrefix: string;
  /** Subscribed by email when set (the recipient must confirm). */
  readonly alertEmail: string | undefined;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The alarms' topic of the DSQL stacks: encrypted with a rotating customer-managed key that
 * CloudWatch alarms may use (they cannot use `aws/sns`), TLS-only, an optional email
 * subscription. The same key policy as the SQS stack's alerts topic (SpoolNotifications), which
 * also holds the callback secret that these stacks do not need.
 */
export class AlertsTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: AlertsTopicProps) {
    super(scope, id);
    // A CfnKey, not kms.Key: kms.Key adds a `kms:*` statement for the account, and no policy here grants a wildcard action.
    const cfnKey = new kms.CfnKey(this, 'Key', {
      description: `Encrypts the ${props.namePrefix} alerts topic`,
      enableKeyRotation: true,
      keyPolicy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AccountManagesAndDelegatesToIam',
            principals: [new iam.AccountRootPrincipal()],
            actions: ACCOUNT_KEY_ACTIONS,
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
            principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
            actions: TOPIC_KEY_PUBLISH_ACTIONS,
            resources: ['*'],
          }),
        ],
      }),
      pendingWindowInDays: props.removalPolicy === RemovalPolicy.DESTROY ? 7 : 30,
    });
    cfnKey.applyRemovalPolicy(props.removalPolicy);
    new kms.CfnAlias(this, 'KeyAlias', { aliasName: `alias/${props.namePrefix}-alerts`, targetKeyId: cfnKey.attrArn });
    this.key = kms.Key.fromKeyArn(this, 'KeyRef', cfnKey.attrArn);

    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `${props.namePrefix}-alerts`,
      displayName: `${props.namePrefix} alerts`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.alertEmail !== undefined) {
      const subscription = new sns.Subscription(this, 'Email', {
        topic: this.topic,
        protocol: sns.SubscriptionProtocol.EMAIL,
        endpoint: props.alertEmail,
      });
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'Email subscription for alarm notifications: SNS retries email delivery itself, and an undeliverable alert stays visible in the CloudWatch alarm history and dashboard, so a redrive queue would hold nothing actionable.',
      });
    }
  }
}
