#!/usr/bin/env bash
# Release one image to one existing stack, in two change sets:
#   1. MigrationImageTag=<tag> (plus any template change): the migration task definition moves;
#   2. the migration task runs once and must exit 0;
#   3. ImageTag=<tag>: web and worker services roll to the new image.
# The web tasks only become ready once migrations are applied (/readyz), so step 2 comes before
# step 3; migrations must therefore keep working with the code still running (expand, then
# contract in a later release). A failed update is rolled back by CloudFormation (and by ECS's
# deployment circuit breaker for tasks that never get healthy); the job then fails.
#
#   infra/deploy.sh <stack-name> <image-tag>
set -euo pipefail
cd "$(dirname "$0")/.."

stack=${1:?stack name}
tag=${2:?image tag}
template=infra/cloudformation.yaml

if (( $(wc -c < "$template") > 51200 )); then
  echo "$template is over CloudFormation's 51,200-byte inline limit" >&2
  exit 1
fi

outputs() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

show_failure() {
  # shellcheck disable=SC2016  # the backticks are JMESPath literals, not shell
  aws cloudformation describe-stack-events --stack-name "$stack" --max-items 25 \
    --query 'StackEvents[?contains(ResourceStatus, `FAILED`)].[Timestamp,LogicalResourceId,ResourceStatusReason]' \
    --output table || true
}

# Change one or two parameters; every other parameter the stack already has keeps its value.
update_stack() {
  local name=$1 changed=$2
  local params=() key
  for key in $(aws cloudformation describe-stacks --stack-name "$stack" \
      --query 'Stacks[0].Parameters[].ParameterKey' --output text); do
    [[ " $changed " == *" $key="* ]] && continue
    params+=("ParameterKey=$key,UsePreviousValue=true")
  done
  for key in $changed; do
    params+=("ParameterKey=${key%%=*},ParameterValue=${key#*=}")
  done

  echo "==> change set $name ($changed)"
  aws cloudformation create-change-set --stack-name "$stack" --change-set-name "$name" \
    --change-set-type UPDATE --template-body "file://$template" \
    --capabilities CAPABILITY_IAM --parameters "${params[@]}" >/dev/null
  if ! aws cloudformation wait change-set-create-complete \
      --stack-name "$stack" --change-set-name "$name"; then
    reason=$(aws cloudformation describe-change-set --stack-name "$stack" \
      --change-set-name "$name" --query StatusReason --output text)
    if [[ "$reason" == *"didn't contain changes"* || "$reason" == *"No updates"* ]]; then
      echo "    nothing to change"
      aws cloudformation delete-change-set --stack-name "$stack" --change-set-name "$name"
      return 0
    fi
    echo "change set failed: $reason" >&2
    exit 1
  fi
  aws cloudformation describe-change-set --stack-name "$stack" --change-set-name "$name" \
    --query 'Changes[].ResourceChange.[Action,LogicalResourceId,Replacement]' --output table
  aws cloudformation execute-change-set --stack-name "$stack" --change-set-name "$name"
  if ! aws cloudformation wait stack-update-complete --stack-name "$stack"; then
    echo "stack update failed; CloudFormation rolls it back" >&2
    show_failure
    aws cloudformation wait stack-rollback-complete --stack-name "$stack" 2>/dev/null \
      || aws cloudformation wait stack-update-complete --stack-name "$stack" || true
    exit 1
  fi
}

run_migrations() {
  local cluster task_definition subnets security_group task_arn exit_code
  cluster=$(outputs ClusterName)
  task_definition=$(outputs MigrateTaskDefinitionArn)
  subnets=$(outputs MigrateSubnets)
  security_group=$(outputs MigrateSecurityGroup)
  echo "==> migrate ($task_definition)"
  task_arn=$(aws ecs run-task --cluster "$cluster" --task-definition "$task_definition" \
    --launch-type FARGATE --started-by "deploy-${tag:0:24}" \
    --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$security_group],assignPublicIp=DISABLED}" \
    --query 'tasks[0].taskArn' --output text)
  aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task_arn"
  exit_code=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
    --query 'tasks[0].containers[0].exitCode' --output text)
  if [[ "$exit_code" != 0 ]]; then
    echo "migration task exited with $exit_code; the services still run the previous image" >&2
    aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
      --query 'tasks[0].[stoppedReason,containers[0].reason]' --output text >&2
    exit 1
  fi
}

suffix="${tag:0:12}-$(date -u +%Y%m%d%H%M%S)"
update_stack "migrate-$suffix" "MigrationImageTag=$tag"
run_migrations
update_stack "release-$suffix" "ImageTag=$tag"
echo "==> $(outputs Url) runs $tag"
