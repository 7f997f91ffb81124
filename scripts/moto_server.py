#!/usr/bin/env python3
"""Start moto's server with the one fix aws-sdk-ecs needs to parse its ECS answers.

moto 5.2.1 copies a container's `cpu` and `memory` from the task definition (where the ECS API models
them as integers, and moto injects `"cpu": 0`) into each task's `containers[]` entry unchanged. In the
ECS API those two `Container` fields are strings, so the Rust SDK rejects every RunTask, DescribeTasks
and StopTask answer with `TypeMismatch: expected string`; boto3 is lenient and never noticed. We wrap
`moto.ecs.models.Container.__init__` to store them as strings, then hand the command line to
`moto.server.main`, so this takes exactly `moto_server`'s arguments (`-H HOST -p PORT`).

Task definitions are left alone: `ContainerDefinition.cpu`/`memory` are integers in the API too.

moto starts every task in RUNNING (the states before it are commented out of its transitions), so a
task stuck in its boot cannot happen there. `POST /moto-api/rc/ecs-task-status` with
`{"task": "<task ARN>", "status": "PENDING"}` sets a task's `lastStatus`, as ECS would show a task
still pulling its image; a status outside the task's transitions stays until StopTask.

moto checks DynamoDB conditions and then writes, in whichever server thread took the request, so
two simultaneous conditional writes can both pass (seen: two `TransactWriteItems` of one team's lock
both recorded). Real DynamoDB makes each conditional write and each transaction atomic; we take one
lock around moto's DynamoDB writes (and reads, so a consistent read never sees half a transaction).

With `RC_MOTO_EXIT_ON_STDIN_EOF=1` the server also exits when its stdin reaches end of file. The test
support code starts it with a pipe on stdin, so moto dies with the test process however that ends,
even when no destructor runs (a shared server, a killed test).
"""

import json
import os
import sys
import threading

from moto.dynamodb import models as dynamodb_models
from moto.ecs import models as ecs_models
from moto.moto_api._internal import urls as moto_api_urls
from moto.server import main

import moto_appconfig  # noqa: F401  (installs AppConfig environments and deployments)


def _stringify(value):
    return None if value is None else str(value)


_original_container_init = ecs_models.Container.__init__


def _container_init(self, *args, **kwargs):
    _original_container_init(self, *args, **kwargs)
    self.cpu = _stringify(self.cpu)
    self.memory = _stringify(self.memory)


ecs_models.Container.__init__ = _container_init

# moto never sets a task's `createdAt`, which real ECS always reports and our task observer needs.
_original_task_init = ecs_models.Task.__init__


def _task_init(self, *args, **kwargs):
    _original_task_init(self, *args, **kwargs)
    self.created_at = ecs_models.utcnow()


ecs_models.Task.__init__ = _task_init


def _set_ecs_task_status(request, full_url, headers):
    """`POST /moto-api/rc/ecs-task-status`: see the module docs."""
    body = json.loads(request.get_data(as_text=True) or "{}")
    for account in ecs_models.ecs_backends.values():
        for backend in account.values():
            for tasks in backend.tasks.values():
                task = tasks.get(body.get("task"))
                if task is not None:
                    task.last_status = body["status"]
                    return 200, {}, json.dumps({"status": task.last_status})
    return 404, {}, json.dumps({"error": "no such task"})


moto_api_urls.url_paths["{0}/moto-api/rc/ecs-task-status"] = _set_ecs_task_status


_dynamodb_lock = threading.RLock()


def _atomic(method):
    def serialised(*args, **kwargs):
        with _dynamodb_lock:
            return method(*args, **kwargs)

    return serialised


for _name in (
    "put_item",
    "update_item",
    "delete_item",
    "get_item",
    "batch_write_item",
    "transact_write_items",
):
    _method = getattr(dynamodb_models.DynamoDBBackend, _name)
    setattr(dynamodb_models.DynamoDBBackend, _name, _atomic(_method))


def _exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


if __name__ == "__main__":
    if os.environ.get("RC_MOTO_EXIT_ON_STDIN_EOF") == "1":
        threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    main(sys.argv[1:])
