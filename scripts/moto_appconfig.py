"""AppConfig environments, deployment strategies and deployments for moto 5.2.1, in memory.

moto 5.2.1 has AppConfig applications, configuration profiles and hosted configuration versions, but
answers 404 for environments, deployment strategies and deployments, and has no ListApplications or
ListHostedConfigurationVersions. `config push` needs all of them, so this module adds them to moto's
AppConfig backend and routes, the way `moto_server.py` patches ECS. Importing it installs them.

A deployment answers `DEPLOYING` to its first `DEPLOYING_POLLS` GetDeployment calls and `COMPLETE` from
then on, with the event log the real service keeps (started, percentage, baking, completed), so a
client that follows a deployment to its end sees it move. StartDeployment checks what the real service
checks before it starts: the application, environment, strategy, profile and version exist.
"""

import json
from datetime import datetime, timezone

from moto.appconfig import urls
from moto.appconfig.responses import AppConfigResponse
from moto.core.exceptions import JsonRESTError
from moto.moto_api._internal import mock_random

# GetDeployment calls answered DEPLOYING before the deployment completes.
DEPLOYING_POLLS = 2

# The predefined strategies every account has (AppConfig user guide, "Predefined deployment
# strategies"), with their real ids.
PREDEFINED_STRATEGIES = [
    ("AppConfig.AllAtOnce", 0, 10, 100.0, "LINEAR"),
    ("AppConfig.Linear50PercentEvery30Seconds", 1, 1, 50.0, "LINEAR"),
    ("AppConfig.Canary10Percent20Minutes", 20, 10, 10.0, "EXPONENTIAL"),
]

_APP = "{0}/applications/(?P<app_id>[^/]+)"
urls.url_paths.update(
    {
        _APP + "/environments$": AppConfigResponse.dispatch,
        _APP + "/environments/(?P<env_id>[^/]+)$": AppConfigResponse.dispatch,
        _APP + "/environments/(?P<env_id>[^/]+)/deployments$": AppConfigResponse.dispatch,
        _APP + "/environments/(?P<env_id>[^/]+)/deployments/(?P<number>[^/]+)$": AppConfigResponse.dispatch,
        "{0}/deploymentstrategies$": AppConfigResponse.dispatch,
        "{0}/deploymentstrategies/(?P<strategy_id>[^/]+)$": AppConfigResponse.dispatch,
    }
)


class _NotFound(JsonRESTError):
    def __init__(self, what):
        super().__init__("ResourceNotFoundException", f"{what} not found")


def _state(backend):
    """Our tables on the backend instance: a moto reset makes a new backend, so they reset too."""
    if not hasattr(backend, "rc_environments"):
        backend.rc_environments = {}
        backend.rc_strategies = {
            sid: {
                "Id": sid,
                "Name": sid,
                "DeploymentDurationInMinutes": duration,
                "FinalBakeTimeInMinutes": bake,
                "GrowthFactor": growth,
                "GrowthType": growth_type,
                "ReplicateTo": "NONE",
            }
            for sid, duration, bake, growth, growth_type in PREDEFINED_STRATEGIES
        }
        backend.rc_deployments = {}
    return backend


def _environment(backend, app_id, env_id):
    backend.get_application(app_id)
    env = _state(backend).rc_environments.get((app_id, env_id))
    if env is None:
        raise _NotFound("Environment")
    return env


def _now():
    """AppConfig's timestamps are ISO 8601 strings with an offset, not epoch numbers."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _event(kind, description):
    return {
        "EventType": kind,
        "TriggeredBy": "APPCONFIG",
        "Description": description,
        "OccurredAt": _now(),
    }


def _advance(deployment):
    """One GetDeployment call's worth of progress."""
    deployment["rc_polls"] += 1
    if deployment["State"] == "DEPLOYING" and deployment["rc_polls"] > DEPLOYING_POLLS:
        deployment["State"] = "COMPLETE"
        deployment["PercentageComplete"] = 100.0
        deployment["CompletedAt"] = _now()
        deployment["EventLog"][:0] = [
            _event("COMPLETED", "Deployment completed"),
            _event("BAKE_TIME_STARTED", "Deployment bake time started"),
            _event("PERCENTAGE_UPDATED", "Configuration deployment to 100.00% of clients"),
        ]


def _public(deployment):
    return {k: v for k, v in deployment.items() if not k.startswith("rc_")}


def _response(method):
    setattr(AppConfigResponse, method.__name__, method)
    return method


@_response
def list_applications(self):
    apps = [app.to_json() for app in self.appconfig_backend.applications.values()]
    return json.dumps({"Items": apps})


@_response
def list_hosted_configuration_versions(self):
    profile = self.appconfig_backend.get_configuration_profile(
        self._get_param("ApplicationId"), self._get_param("ConfigurationProfileId")
    )
    items = [
        {
            "ApplicationId": v.app_id,
            "ConfigurationProfileId": v.config_id,
            "VersionNumber": v.version,
            "Description": v.description,
            "ContentType": v.content_type,
            "VersionLabel": v.version_label,
        }
        for _, v in sorted(profile.config_versions.items(), reverse=True)
    ]
    return json.dumps({"Items": items})


@_response
def create_environment(self):
    backend = _state(self.appconfig_backend)
    app_id = self._get_param("ApplicationId")
    backend.get_application(app_id)
    env = {
        "ApplicationId": app_id,
        "Id": mock_random.get_random_hex(7),
        "Name": self._get_param("Name"),
        "Description": self._get_param("Description"),
        "State": "ReadyForDeployment",
        "Monitors": self._get_param("Monitors") or [],
    }
    backend.rc_environments[(app_id, env["Id"])] = env
    return 201, {"status": 201}, json.dumps(env)


@_response
def get_environment(self):
    env = _environment(
        self.appconfig_backend, self._get_param("ApplicationId"), self._get_param("EnvironmentId")
    )
    return json.dumps(env)


@_response
def list_environments(self):
    backend = _state(self.appconfig_backend)
    app_id = self._get_param("ApplicationId")
    backend.get_application(app_id)
    items = [e for (a, _), e in backend.rc_environments.items() if a == app_id]
    return json.dumps({"Items": items})


@_response
def create_deployment_strategy(self):
    backend = _state(self.appconfig_backend)
    strategy = {
        "Id": mock_random.get_random_hex(7),
        "Name": self._get_param("Name"),
        "DeploymentDurationInMinutes": self._get_param("DeploymentDurationInMinutes"),
        "FinalBakeTimeInMinutes": self._get_param("FinalBakeTimeInMinutes") or 0,
        "GrowthFactor": self._get_param("GrowthFactor"),
        "GrowthType": self._get_param("GrowthType") or "LINEAR",
        "ReplicateTo": self._get_param("ReplicateTo") or "NONE",
    }
    backend.rc_strategies[strategy["Id"]] = strategy
    return 201, {"status": 201}, json.dumps(strategy)


@_response
def get_deployment_strategy(self):
    strategy = _state(self.appconfig_backend).rc_strategies.get(
        self._get_param("DeploymentStrategyId")
    )
    if strategy is None:
        raise _NotFound("DeploymentStrategy")
    return json.dumps(strategy)


@_response
def list_deployment_strategies(self):
    return json.dumps({"Items": list(_state(self.appconfig_backend).rc_strategies.values())})


@_response
def start_deployment(self):
    backend = _state(self.appconfig_backend)
    app_id = self._get_param("ApplicationId")
    env = _environment(backend, app_id, self._get_param("EnvironmentId"))
    strategy = backend.rc_strategies.get(self._get_param("DeploymentStrategyId"))
    if strategy is None:
        raise _NotFound("DeploymentStrategy")
    profile_id = self._get_param("ConfigurationProfileId")
    profile = backend.get_configuration_profile(app_id, profile_id)
    version = self._get_param("ConfigurationVersion")
    hosted = backend.get_hosted_configuration_version(app_id, profile_id, int(version))
    history = backend.rc_deployments.setdefault((app_id, env["Id"]), [])
    deployment = {
        "ApplicationId": app_id,
        "EnvironmentId": env["Id"],
        "DeploymentStrategyId": strategy["Id"],
        "ConfigurationProfileId": profile_id,
        "DeploymentNumber": len(history) + 1,
        "ConfigurationName": profile.name,
        "ConfigurationLocationUri": profile.location_uri,
        "ConfigurationVersion": str(version),
        "Description": self._get_param("Description"),
        "DeploymentDurationInMinutes": strategy["DeploymentDurationInMinutes"],
        "GrowthType": strategy["GrowthType"],
        "GrowthFactor": strategy["GrowthFactor"],
        "FinalBakeTimeInMinutes": strategy["FinalBakeTimeInMinutes"],
        "State": "DEPLOYING",
        "EventLog": [_event("DEPLOYMENT_STARTED", "Deployment started")],
        "PercentageComplete": 0.0,
        "StartedAt": _now(),
        "VersionLabel": hosted.version_label,
        "rc_polls": 0,
    }
    history.append(deployment)
    return 201, {"status": 201}, json.dumps(_public(deployment))


@_response
def get_deployment(self):
    backend = self.appconfig_backend
    app_id = self._get_param("ApplicationId")
    env = _environment(backend, app_id, self._get_param("EnvironmentId"))
    number = int(self._get_param("DeploymentNumber"))
    history = backend.rc_deployments.get((app_id, env["Id"]), [])
    if not 1 <= number <= len(history):
        raise _NotFound("Deployment")
    deployment = history[number - 1]
    _advance(deployment)
    return json.dumps(_public(deployment))


@_response
def list_deployments(self):
    backend = self.appconfig_backend
    app_id = self._get_param("ApplicationId")
    env = _environment(backend, app_id, self._get_param("EnvironmentId"))
    summary_keys = (
        "DeploymentNumber", "ConfigurationName", "ConfigurationVersion",
        "DeploymentDurationInMinutes", "GrowthType", "GrowthFactor", "FinalBakeTimeInMinutes",
        "State", "PercentageComplete", "StartedAt", "CompletedAt", "VersionLabel",
    )
    # Newest first, as the real service lists them.
    items = [
        {k: d[k] for k in summary_keys if k in d}
        for d in reversed(backend.rc_deployments.get((app_id, env["Id"]), []))
    ]
    return json.dumps({"Items": items})
