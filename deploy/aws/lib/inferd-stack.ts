/**
 * inferd on ECS Fargate behind an Application Load Balancer, models from S3 (docs/deploy/ecs.md).
 * Environment-agnostic (no account or region at synth time), so `cdk synth` needs no AWS call.
 *
 *   ALB :80 (and :443 with a certificate) ──► target group :8080, health /v2/health/ready
 *        └─ :443 /inference.GRPCInferenceService/* ──► gRPC target group :8081 (certificate only)
 *   Fargate service (private subnets) ──► S3 bucket s3://bucket/prefix, read-only task role
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { parseEcrImage, type InferdStackOptions } from './context.js';
import {
  CONTAINER_USER,
  DATA_DIR,
  DEREGISTRATION_DELAY_S,
  DRAIN_MS,
  envName,
  GRPC_PORT,
  HTTP_PORT,
  LIVE_PATH,
  READY_PATH,
  STOP_TIMEOUT_S,
  TMP_DIR,
} from './contract.js';

export const CONTAINER_NAME = 'inferd';

export class InferdStack extends Stack {
  constructor(scope: Construct, id: string, opts: InferdStackOptions, props?: StackProps) {
    super(scope, id, props);

    // Two AZs; without NAT gateways the tasks sit in public subnets with public IPs instead.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: opts.natGateways,
      subnetConfiguration:
        opts.natGateways > 0
          ? [
              { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
              { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            ]
          : [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
    });
    // Model downloads go to S3 through the (free) gateway endpoint, not through NAT.
    vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc });

    const bucket = opts.modelsBucket
      ? s3.Bucket.fromBucketName(this, 'Models', opts.modelsBucket)
      : new s3.Bucket(this, 'Models', {
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          encryption: s3.BucketEncryption.S3_MANAGED,
          enforceSSL: true,
          // Models outlive the stack: `cdk destroy` leaves the bucket (docs/deploy/ecs.md, teardown).
          removalPolicy: RemovalPolicy.RETAIN,
        });
    const modelRepository = `s3://${bucket.bucketName}/${opts.modelsPrefix}`;

    // The task role is what inferd's code runs as: read the model prefix, nothing else.
    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'inferd task: read-only access to the model repository prefix',
    });
    bucket.grantRead(taskRole, `${opts.modelsPrefix}/*`);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: opts.cpu,
      memoryLimitMiB: opts.memoryMiB,
      taskRole,
      // onnxruntime-node ships glibc x64 binaries; the image is built for linux/amd64.
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    taskDefinition.addVolume({ name: 'data' });
    taskDefinition.addVolume({ name: 'tmp' });

    const ecrImage = parseEcrImage(opts.image);
    const image = ecrImage
      ? ecs.ContainerImage.fromEcrRepository(
          ecr.Repository.fromRepositoryAttributes(this, 'ImageRepository', {
            repositoryName: ecrImage.repository,
            repositoryArn: `arn:${this.partition}:ecr:${ecrImage.region}:${ecrImage.account}:repository/${ecrImage.repository}`,
          }),
          ecrImage.tagOrDigest,
        )
      : ecs.ContainerImage.fromRegistry(opts.image);

    // Secrets Manager secrets as INFERD_* variables; the execution role may read exactly these.
    const secrets: Record<string, ecs.Secret> = {};
    const secretSettings = [
      ['AdminToken', 'adminToken', opts.adminTokenSecret],
      ['DatabaseUrl', 'databaseUrl', opts.databaseUrlSecret],
      ['RedisUrl', 'redisUrl', opts.redisUrlSecret],
    ] as const;
    for (const [id, setting, name] of secretSettings) {
      if (name === undefined) continue;
      secrets[envName(setting)] = ecs.Secret.fromSecretsManager(
        secretsmanager.Secret.fromSecretNameV2(this, id, name),
      );
    }

    const container = taskDefinition.addContainer(CONTAINER_NAME, {
      image,
      // The image's ENTRYPOINT is the inferd CLI.
      command: ['serve', '--model-repository', modelRepository],
      user: CONTAINER_USER,
      readonlyRootFilesystem: true,
      environment: {
        [envName('host')]: '0.0.0.0',
        [envName('httpPort')]: String(HTTP_PORT),
        [envName('grpcPort')]: String(GRPC_PORT),
        [envName('dataDir')]: DATA_DIR,
        [envName('shutdownTimeoutMs')]: String(DRAIN_MS),
        // Above the ALB's 60 s idle timeout, so the ALB closes idle connections first.
        [envName('idleTimeoutMs')]: '65000',
        TMPDIR: TMP_DIR,
      },
      secrets,
      portMappings: [
        { name: 'http', containerPort: HTTP_PORT, appProtocol: ecs.AppProtocol.http },
        { name: 'grpc', containerPort: GRPC_PORT, appProtocol: ecs.AppProtocol.grpc },
      ],
      // Liveness only (the event loop answers): a model reload or a drain must not restart the task.
      // The image has node and no curl, so node's fetch makes the request.
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${HTTP_PORT}${LIVE_PATH}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
      stopTimeout: Duration.seconds(STOP_TIMEOUT_S),
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'inferd' }),
    });
    container.addMountPoints(
      { sourceVolume: 'data', containerPath: DATA_DIR, readOnly: false },
      { sourceVolume: 'tmp', containerPath: TMP_DIR, readOnly: false },
    );

    const publicTasks = opts.natGateways === 0;
    const service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: opts.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      vpcSubnets: { subnetType: publicTasks ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: publicTasks,
      // Models download from S3 and load before readiness turns 200; the ALB's failed checks during
      // that time must not stop the task.
      healthCheckGracePeriod: Duration.seconds(180),
    });

    const alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', { vpc, internetFacing: true });
    const httpTargets = new elbv2.ApplicationTargetGroup(this, 'HttpTargets', {
      vpc,
      port: HTTP_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: [service.loadBalancerTarget({ containerName: CONTAINER_NAME, containerPort: HTTP_PORT })],
      deregistrationDelay: Duration.seconds(DEREGISTRATION_DELAY_S),
      healthCheck: {
        path: READY_PATH,
        port: String(HTTP_PORT),
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });
    alb.addListener('Http', { port: 80, defaultTargetGroups: [httpTargets] });

    if (opts.certificateArn) {
      // gRPC through an ALB needs HTTPS end to end from the client to the ALB; the ALB speaks
      // HTTP/2 cleartext to the gRPC port.
      const grpcTargets = new elbv2.ApplicationTargetGroup(this, 'GrpcTargets', {
        vpc,
        port: GRPC_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        protocolVersion: elbv2.ApplicationProtocolVersion.GRPC,
        targetType: elbv2.TargetType.IP,
        targets: [service.loadBalancerTarget({ containerName: CONTAINER_NAME, containerPort: GRPC_PORT })],
        deregistrationDelay: Duration.seconds(DEREGISTRATION_DELAY_S),
        // grpc.health.v1 Check with the empty service name = the server's readiness.
        healthCheck: {
          path: '/grpc.health.v1.Health/Check',
          port: String(GRPC_PORT),
          healthyGrpcCodes: '0',
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
      const https = alb.addListener('Https', {
        port: 443,
        certificates: [elbv2.ListenerCertificate.fromArn(opts.certificateArn)],
        defaultTargetGroups: [httpTargets],
      });
      https.addTargetGroups('Grpc', {
        priority: 10,
        conditions: [
          elbv2.ListenerCondition.httpHeader('content-type', ['application/grpc*']),
          elbv2.ListenerCondition.pathPatterns([
            '/inference.GRPCInferenceService/*',
            '/grpc.health.v1.Health/*',
          ]),
        ],
        targetGroups: [grpcTargets],
      });
    }

    // Request count per target, not CPU alone: a queued request costs no CPU until it runs, so
    // CPU lags the backlog. CPU stays as a backstop because an OCR page costs ~3000× a spam
    // message (bench/results/ocr.md). ECS scales out when either policy asks, in when both allow.
    const scaling = service.autoScaleTaskCount({ minCapacity: opts.minTasks, maxCapacity: opts.maxTasks });
    scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: opts.requestsPerTarget,
      targetGroup: httpTargets,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: 75,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });

    new CfnOutput(this, 'Url', { value: `http://${alb.loadBalancerDnsName}` });
    new CfnOutput(this, 'ModelRepository', { value: modelRepository });
    new CfnOutput(this, 'ModelsBucket', { value: bucket.bucketName });
    new CfnOutput(this, 'LogGroup', { value: logGroup.logGroupName });
    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: service.serviceName });
  }
}
