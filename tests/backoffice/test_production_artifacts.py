"""The deployment files agree with each other and with the settings.

Linters (hadolint, cfn-lint, the CircleCI schema) check each file alone; these checks catch drift
between them: a task definition missing a variable the others have, a variable the settings never
read, a build step CI does not run.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, ...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_CfnLoader.add_multi_constructor("!", _any_tag)


@pytest.fixture(scope="module")
def template() -> dict:
    return yaml.load((ROOT / "infra/cloudformation.yaml").read_text(), Loader=_CfnLoader)


def _containers(template: dict) -> dict[str, dict]:
    return {
        name: resource["Properties"]["ContainerDefinitions"][0]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::ECS::TaskDefinition"
    }


def _entries(items: list) -> list[dict]:
    """Environment or secret entries; a conditional one (``!If [cond, entry, NoValue]``) as the
    entry it sets when its condition holds."""
    return [item[1] if isinstance(item, list) else item for item in items]


def test_every_task_gets_the_same_configuration(template):
    containers = _containers(template)
    assert set(containers) == {"WebTaskDefinition", "WorkerTaskDefinition", "MigrateTaskDefinition"}
    environments = {
        name: {item["Name"]: item["Value"] for item in _entries(c["Environment"])}
        for name, c in containers.items()
    }
    secrets = {
        name: {item["Name"]: item["ValueFrom"] for item in _entries(c["Secrets"])}
        for name, c in containers.items()
    }
    web_env, web_secrets = environments["WebTaskDefinition"], secrets["WebTaskDefinition"]
    for name in containers:
        assert environments[name] == web_env, name
        assert secrets[name] == web_secrets, name
    assert web_env["DJANGO_SETTINGS_MODULE"] == "backoffice.settings.production"
    assert not set(web_env) & set(web_secrets)


def test_every_variable_the_stack_sets_is_read_by_the_application(template):
    source = "\n".join(
        path.read_text()
        for folder in ("backoffice", "apps")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    )
    read = set(re.findall(r"env\.\w+\(\s*\"([A-Z0-9_]+)\"", source)) | {"DJANGO_SETTINGS_MODULE"}
    web = _containers(template)["WebTaskDefinition"]
    names = {item["Name"] for item in _entries(web["Environment"] + web["Secrets"])}
    names -= {"GUNICORN_WORKERS", "GUNICORN_THREADS"}  # read by gunicorn.conf.py
    assert names <= read, sorted(names - read)
    gunicorn_conf = (ROOT / "gunicorn.conf.py").read_text()
    assert '"GUNICORN_WORKERS"' in gunicorn_conf
    assert '"GUNICORN_THREADS"' in gunicorn_conf


def test_secrets_come_from_secrets_manager_only(template):
    secret_resources = {
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::SecretsManager::Secret"
    }
    web = _containers(template)["WebTaskDefinition"]
    for item in _entries(web["Secrets"]):
        assert item["ValueFrom"].split(":")[0].strip("${}") in secret_resources, item
    for name, parameter in template["Parameters"].items():
        assert "secret" not in name.lower() and "password" not in name.lower(), name
        assert parameter.get("NoEcho") is None, name


def test_the_dockerfile_build_steps_are_the_ones_ci_runs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    ci_run = (ROOT / ".ci/run").read_text()
    circleci = (ROOT / ".circleci/config.yml").read_text()
    steps = re.findall(r"(?<!COPY )scripts/docker-steps\.sh (\w+)", dockerfile)
    assert steps == ["install", "collectstatic", "check", "compile"]
    assert "for step in install collectstatic check compile" in ci_run
    assert "for step in install collectstatic check compile" in circleci


def test_the_pipeline_deploys_main_only_after_approval():
    config = yaml.safe_load((ROOT / ".circleci/config.yml").read_text())
    jobs = {}
    for entry in config["workflows"]["pipeline"]["jobs"]:
        name, options = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
        jobs[options.get("name", name)] = options
    assert jobs["hold-production"]["type"] == "approval"
    assert jobs["deploy-production"]["requires"] == ["hold-production"]
    assert jobs["hold-production"]["requires"] == ["build-image"]
    assert jobs["build-image"]["requires"] == ["test"]
    for name in ("build-image", "hold-production", "deploy-production"):
        assert jobs[name]["filters"]["branches"]["only"] == "main", name


def test_the_shared_cache_is_encrypted_and_its_token_a_secret(template):
    cache = template["Resources"]["Cache"]
    assert cache["Type"] == "AWS::ElastiCache::ReplicationGroup"
    properties = cache["Properties"]
    assert properties["TransitEncryptionEnabled"] is True
    assert properties["AtRestEncryptionEnabled"] is True
    assert properties["AuthToken"] == "{{resolve:secretsmanager:${CacheAuthToken}:SecretString}}"
    assert template["Resources"]["CacheAuthToken"]["Type"] == "AWS::SecretsManager::Secret"
    for name, container in _containers(template).items():
        environment = {item["Name"]: item["Value"] for item in _entries(container["Environment"])}
        secrets = {item["Name"]: item["ValueFrom"] for item in _entries(container["Secrets"])}
        assert environment["CACHE_URL"].startswith("rediss://"), name  # TLS
        assert secrets["CACHE_PASSWORD"] == "CacheAuthToken", name
    ingress = template["Resources"]["CacheSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert {rule["SourceSecurityGroupId"] for rule in ingress} == {
        "WebSecurityGroup",
        "BackgroundSecurityGroup",
    }


def test_the_read_replica_is_optional(template):
    replica = template["Resources"]["DatabaseReplica"]
    assert replica["Condition"] == "ReadReplica"
    assert replica["Properties"]["SourceDBInstanceIdentifier"] == "Database"
    assert template["Parameters"]["DbReadReplica"]["Default"] == "false"
