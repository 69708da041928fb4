/**
 * CDK app of the ECS deployment: `cdk synth` / `cdk deploy` run it from deploy/aws/ (cdk.json) after
 * `npm run build`. Options come from context (`-c image=…`, see lib/context.ts and
 * docs/deploy/ecs.md); a bad option prints what to give and exits 2.
 */
import { App } from 'aws-cdk-lib/core';
import { ContextError, readOptions } from '../lib/context.js';
import { InferdStack } from '../lib/inferd-stack.js';

const app = new App();
let options;
try {
  options = readOptions((key) => app.node.tryGetContext(key));
} catch (err) {
  if (!(err instanceof ContextError)) throw err;
  process.stderr.write(`inferd deploy/aws: ${err.message}\n`);
  process.exit(2);
}
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'Inferd';
new InferdStack(app, stackName, options, {
  description: 'inferd model server on ECS Fargate behind an ALB, models from S3',
});
app.synth();
