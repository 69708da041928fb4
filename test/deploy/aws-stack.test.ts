/**
 * The ECS deployment (deploy/aws) synthesised offline and checked with aws-cdk-lib/assertions: each
 * test pins one property the running server depends on (probe paths and ports, non-root user,
 * read-only root with its writable volumes, IAM scope, drain timing, autoscaling), so a change of
 * the stack that breaks the contract fails here instead of in a deploy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { App } from 'aws-cdk-lib/core';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ContextError, parseEcrImage, readOptions } from '../../deploy/aws/lib/context.js';
import {
  CONTAINER_USER,
  DATA_DIR,
  DEREGISTRATION_DELAY_S,
  EXIT_MARGIN_S,
  GRPC_PORT,
  HTTP_PORT,
  LIVE_PATH,
  READY_PATH,
  STOP_TIMEOUT_S,
  TMP_DIR,
} from '../../deploy/aws/lib/contract.js';
import { CONTAINER_NAME, InferdStack } from '../../deploy/aws/lib/inferd-stack.js';
import { assertOpenHealthRoute, settingsFromEnv } from './server-contract.js';

const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/inferd:0.1.0';
// The feature flags of cdk.json, as `cdk synth` passes them to the app.
const CDK_JSON = JSON.parse(readFileSync('deploy/aws/cdk.json', 'utf8')) as {
  context: Record<string, unknown>;
};

type Json = Record<string, unknown>;

/**
 * The built-in CloudFormation validation (a WASM schema check, run by `npm run deploy:aws:synth`)
 * is off here: it took 24 s of this file's 30 s on a loaded 2-core machine, against 0.6 s per
 * synthesis without it, and checks CloudFormation's schema rather than inferd's contract.
 */
function synth(context: Record<string, string> = {}): Template {
  const app = new App({
    context: { ...CDK_JSON.context, image: IMAGE, ...context },
    builtinCloudFormationValidation: false,
  });
  const options = readOptions((key) => app.node.tryGetContext(key));
  return Template.fromStack(new InferdStack(app, 'Inferd', options));
}

function only(template: Template, type: string): [string, Json] {
  const found = Object.entries(template.findResources(type));
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0] as [string, Json];
}

const started = performance.now();
const template = synth();
const synthMs = performance.now() - started;

const [, taskDef] = only(template, 'AWS::ECS::TaskDefinition');
const taskProps = taskDef.Properties as Json;
const containers = taskProps.ContainerDefinitions as Json[];
const container = containers.find((c) => c.Name === CONTAINER_NAME) as Json;
const containerEnv = Object.fromEntries(
  (container.Environment as { Name: string; Value: string }[]).map((e) => [e.Name, e.Value]),
);

describe('deploy/aws: ECS Fargate stack', () => {
  it(`synthesises offline (${Math.round(synthMs)} ms) with one container`, () => {
    assert.equal(containers.length, 1);
    assert.ok(container, `no container named ${CONTAINER_NAME}`);
  });

  it('ALB target group checks readiness on the HTTP port, an open health route', () => {
    assertOpenHealthRoute(READY_PATH);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: HTTP_PORT,
      Protocol: 'HTTP',
      TargetType: 'ip',
      HealthCheckPath: '/v2/health/ready',
      HealthCheckPort: String(HTTP_PORT),
      Matcher: { HttpCode: '200' },
    });
    // Without a certificate there is no gRPC target group: the only one is the HTTP one.
    only(template, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
  });

  it('container health check asks liveness on the HTTP port', () => {
    assertOpenHealthRoute(LIVE_PATH);
    const check = container.HealthCheck as { Command: string[]; StartPeriod: number };
    assert.equal(check.Command[0], 'CMD');
    const script = check.Command.join(' ');
    assert.ok(script.includes(`http://127.0.0.1:${HTTP_PORT}/v2/health/live`), script);
    assert.ok(!script.includes(READY_PATH), 'liveness must not depend on readiness');
  });

  it('maps the HTTP and gRPC ports the server listens on', () => {
    const settings = settingsFromEnv(containerEnv);
    assert.deepEqual(
      (container.PortMappings as Json[]).map((p) => p.ContainerPort),
      [settings.httpPort, settings.grpcPort],
    );
    assert.deepEqual([settings.httpPort, settings.grpcPort], [HTTP_PORT, GRPC_PORT]);
    // Reachable through the ALB: not loopback.
    assert.equal(settings.host, '0.0.0.0');
  });

  it('runs as a non-root user with a read-only root filesystem', () => {
    assert.equal(container.User, CONTAINER_USER);
    assert.ok(!['0', 'root', '0:0'].includes(String(container.User)));
    assert.match(String(container.User), /^[1-9]\d*(:\d+)?$/);
    assert.equal(container.ReadonlyRootFilesystem, true);
    assert.equal(container.Privileged, undefined);
  });

  it('writes only to task volumes: the data dir and the temp dir', () => {
    const volumes = (taskProps.Volumes as { Name: string }[]).map((v) => v.Name).sort();
    assert.deepEqual(volumes, ['data', 'tmp']);
    const mounts = (
      container.MountPoints as { ContainerPath: string; SourceVolume: string; ReadOnly: boolean }[]
    )
      .map((m) => `${m.SourceVolume}:${m.ContainerPath}:${m.ReadOnly ? 'ro' : 'rw'}`)
      .sort();
    assert.deepEqual(mounts, [`data:${DATA_DIR}:rw`, `tmp:${TMP_DIR}:rw`]);
    const settings = settingsFromEnv(containerEnv);
    assert.equal(settings.dataDir, DATA_DIR);
    assert.equal(containerEnv.TMPDIR, TMP_DIR);
  });

  it('serves the S3 model repository of the models bucket', () => {
    const command = container.Command as unknown[];
    assert.deepEqual(command.slice(0, 2), ['serve', '--model-repository']);
    const [bucketId] = only(template, 'AWS::S3::Bucket');
    assert.deepEqual(command[2], { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/models']] });
    settingsFromEnv(containerEnv, { modelRepository: 's3://bucket/models' });
  });

  it('task role may only read the models bucket and its prefix', () => {
    const [bucketId] = only(template, 'AWS::S3::Bucket');
    const roleId = (taskProps.TaskRoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId] as Json;
    const roleProps = role.Properties as Json;
    assert.equal(roleProps.ManagedPolicyArns, undefined, 'no managed policies on the task role');
    assert.equal(roleProps.Policies, undefined, 'no inline policies on the task role');
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      ((p.Properties as Json).Roles as Json[]).some((r) => r.Ref === roleId),
    );
    assert.equal(policies.length, 1);
    const statements = ((policies[0]!.Properties as Json).PolicyDocument as { Statement: Json[] }).Statement;
    const bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] };
    for (const s of statements) {
      assert.equal(s.Effect, 'Allow');
      const actions = ([] as string[]).concat(s.Action as string | string[]);
      for (const a of actions) {
        assert.ok(['s3:GetObject*', 's3:GetBucket*', 's3:List*'].includes(a), `task role action ${a}`);
      }
      const resources = ([] as unknown[]).concat(s.Resource);
      assert.deepEqual(resources, [bucketArn, { 'Fn::Join': ['', [bucketArn, '/models/*']] }]);
    }
    // Nothing writes: no Put/Delete anywhere in the task role's statements.
    assert.doesNotMatch(JSON.stringify(statements), /Put|Delete|"\*"|s3:\*/);
  });

  it('models bucket blocks public access and plain HTTP', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });

  it('drains: deregistration delay, then SIGTERM, inferd drain, exit before SIGKILL', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: READY_PATH,
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: String(DEREGISTRATION_DELAY_S) },
      ]),
    });
    assert.equal(container.StopTimeout, STOP_TIMEOUT_S);
    assert.equal(STOP_TIMEOUT_S, 35);
    const settings = settingsFromEnv(containerEnv);
    // The server's own drain bound ends before ECS kills the process, with time to unload and exit.
    assert.ok(EXIT_MARGIN_S >= 5);
    assert.ok(settings.shutdownTimeoutMs + EXIT_MARGIN_S * 1000 <= (container.StopTimeout as number) * 1000);
    assert.ok((container.StopTimeout as number) <= 120, 'Fargate allows at most 120 s');
    // Idle keep-alive connections are closed by the ALB (60 s) before the server closes them.
    assert.ok(settings.idleTimeoutMs > 60_000);
  });

  it('autoscales on ALB requests per target, with CPU as a backstop', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 10,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    const [tgId] = only(template, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'ALBRequestCountPerTarget',
          ResourceLabel: Match.anyValue(),
        },
        TargetValue: 600,
      },
    });
    const policies = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'));
    const requests = policies.find((p) => JSON.stringify(p).includes('ALBRequestCountPerTarget'));
    assert.ok(
      JSON.stringify(requests).includes(`"${tgId}","TargetGroupFullName"`),
      'scales on the HTTP target group',
    );
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 75,
      },
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      DeploymentConfiguration: Match.objectLike({
        MinimumHealthyPercent: 100,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    });
  });

  it('logs to a log group with a retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const [logGroupId] = only(template, 'AWS::Logs::LogGroup');
    assert.deepEqual((container.LogConfiguration as Json).LogDriver, 'awslogs');
    assert.deepEqual(((container.LogConfiguration as Json).Options as Json)['awslogs-group'], {
      Ref: logGroupId,
    });
  });

  it('with a certificate: HTTPS listener and gRPC routed to the gRPC port', () => {
    const t = synth({ certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: GRPC_PORT,
      ProtocolVersion: 'GRPC',
      HealthCheckPath: '/grpc.health.v1.Health/Check',
      HealthCheckPort: String(GRPC_PORT),
      Matcher: { GrpcCode: '0' },
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: Match.arrayWith([
        Match.objectLike({
          PathPatternConfig: { Values: Match.arrayWith(['/inference.GRPCInferenceService/*']) },
        }),
      ]),
    });
  });

  it('secrets become INFERD_* settings read by the execution role, not the task role', () => {
    const t = synth({
      adminTokenSecret: 'inferd/admin-token',
      databaseUrlSecret: 'inferd/database-url',
      redisUrlSecret: 'inferd/redis-url',
    });
    const [, def] = Object.entries(t.findResources('AWS::ECS::TaskDefinition'))[0]!;
    const c = ((def.Properties as Json).ContainerDefinitions as Json[])[0]!;
    const names = (c.Secrets as { Name: string }[]).map((s) => s.Name).sort();
    assert.deepEqual(names, ['INFERD_ADMIN_TOKEN', 'INFERD_DATABASE_URL', 'INFERD_REDIS_URL']);
    // Real setting names (the values are placeholders of a valid shape).
    settingsFromEnv({
      INFERD_ADMIN_TOKEN: 'x'.repeat(16),
      INFERD_DATABASE_URL: 'postgres://db/inferd',
      INFERD_REDIS_URL: 'redis://cache:6379',
    });
    const execRoleId = ((def.Properties as Json).ExecutionRoleArn as { 'Fn::GetAtt': [string] })[
      'Fn::GetAtt'
    ][0];
    const taskRoleId = ((def.Properties as Json).TaskRoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const policyOf = (roleId: string): string =>
      JSON.stringify(
        Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
          ((p.Properties as Json).Roles as Json[]).some((r) => r.Ref === roleId),
        ),
      );
    assert.match(policyOf(execRoleId), /secretsmanager:GetSecretValue/);
    assert.doesNotMatch(policyOf(taskRoleId), /secretsmanager/);
  });

  it('refuses missing or bad context with the key and what to give', () => {
    const get = (ctx: Record<string, string>) => (key: string) => ctx[key];
    assert.throws(
      () => readOptions(get({})),
      (e: Error) => e instanceof ContextError && /-c image=/.test(e.message),
    );
    assert.throws(
      () => readOptions(get({ image: IMAGE, cpu: '1024', memoryMiB: '1000' })),
      /not a Fargate task size/,
    );
    assert.throws(() => readOptions(get({ image: IMAGE, modelsPrefix: '/models/' })), /modelsPrefix/);
    assert.throws(() => readOptions(get({ image: IMAGE, minTasks: '3', maxTasks: '2' })), /maxTasks/);
    assert.deepEqual(parseEcrImage(IMAGE), {
      account: '123456789012',
      region: 'eu-west-1',
      repository: 'inferd',
      tagOrDigest: '0.1.0',
    });
    assert.equal(parseEcrImage('ghcr.io/acme/inferd:0.1.0'), undefined);
  });
});
