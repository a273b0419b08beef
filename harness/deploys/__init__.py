"""Deploys as timeline actions (`type: deploy`): how each era shipped a release under load.

Legacy (`rolling`): OpsWorks Stacks' in-place deploy, instance by instance, each
instance staying registered with the CLB while php-fpm reloads into the new release.
Modern (`bluegreen`): ECS blue/green through CodeDeploy: a green task set, the ALB's
health checks, traffic shifted by weights per the deployment configuration, a
termination wait, automatic rollback when the tied alarm goes to ALARM.
`schedule` holds the pure parts (shift steps, weights, the rollback decision).
"""
