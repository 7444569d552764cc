import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Properties of {@link SpoolNotifications}. */
export interface SpoolNotificationsProps {
  /** Prefix of the physical names (`spool-dev` gives topic `spool-dev-alerts`). */
  readonly namePrefix: string;
  /** Subscribed to the alerts topic by email when set (the recipient must confirm). */
  readonly alertEmail: string | undefined;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * What the account (through IAM policies) may do with the alerts key. Written out instead of
 * `kms:*` so that no policy in the template grants a wildcard action; `kms:PutKeyPolicy` keeps
 * the key manageable (KMS refuses a policy that would lock the account out).
 */
export const ACCOUNT_KEY_ACTIONS = [
  // administration
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:CreateGrant',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RetireGrant',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
  // use, so that IAM policies (the functions' roles) can grant publishing to the topic
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
];

/** What a publisher to a KMS-encrypted topic needs on its key (SNS generates a data key per message). */
export const TOPIC_KEY_PUBLISH_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'];

/**
 * Outbound notifications: the alerts topic (alarms and workers publish to it, operators
 * subscribe) with its customer-managed key, and the secret that signs job callbacks.
 */
export class SpoolNotifications extends Construct {
  readonly alertsTopic: sns.Topic;
  /** Encrypts the alerts topic. A customer-managed key because CloudWatch alarms cannot use `aws/sns`. */
  readonly alertsKey: kms.IKey;
  /** HMAC key for job-completion callbacks; only the callbacks worker may read it. */
  readonly callbackSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: SpoolNotificationsProps) {
    super(scope, id);

    // A CfnKey, not kms.Key: with the recommended feature flags kms.Key always adds a
    // `kms:*` statement for the account, which this stack's no-wildcard rule forbids.
    const keyPolicy = new iam.PolicyDocument({
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
    });
    const cfnKey = new kms.CfnKey(this, 'AlertsKey', {
      description: `Encrypts the ${props.namePrefix} alerts topic`,
      enableKeyRotation: true,
      keyPolicy,
      // Only matters when the key is destroyed: the shortest wait KMS allows.
      pendingWindowInDays: props.removalPolicy === RemovalPolicy.DESTROY ? 7 : 30,
    });
    cfnKey.applyRemovalPolicy(props.removalPolicy);
    new kms.CfnAlias(this, 'AlertsKeyAlias', { aliasName: `alias/${props.namePrefix}-alerts`, targetKeyId: cfnKey.attrArn });
    // fromKeyArn, not fromCfnKey: the policy holds tokens, and nothing should edit it later anyway.
    this.alertsKey = kms.Key.fromKeyArn(this, 'AlertsKeyRef', cfnKey.attrArn);

    this.alertsTopic = new sns.Topic(this, 'AlertsTopic', {
      topicName: `${props.namePrefix}-alerts`,
      displayName: `${props.namePrefix} alerts`,
      masterKey: this.alertsKey,
      enforceSSL: true,
    });

    if (props.alertEmail !== undefined) {
      const subscription = new sns.Subscription(this, 'AlertEmail', {
        topic: this.alertsTopic,
        protocol: sns.SubscriptionProtocol.EMAIL,
        endpoint: props.alertEmail,
      });
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'Email subscription for alarm notifications: SNS retries email delivery itself, and an undeliverable alert stays visible in the CloudWatch alarm history and dashboard, so a redrive queue would hold nothing actionable.',
      });
    }

    this.callbackSecret = new secretsmanager.Secret(this, 'CallbackSecret', {
      description: `HMAC key that signs ${props.namePrefix} job-completion callbacks`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.callbackSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The callback HMAC key is shared with the receivers of callbacks, who verify signatures with it; rotating it needs a coordinated handover with them, so it is rotated manually, not on a schedule.',
    });
  }
}
