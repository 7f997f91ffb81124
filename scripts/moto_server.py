#!/usr/bin/env python3
"""Start moto's server with the one fix aws-sdk-ecs needs to parse its ECS answers.

moto 5.2.1 copies a container's `cpu` and `memory` from the task definition (where the ECS API models
them as integers, and moto injects `"cpu": 0`) into each task's `containers[]` entry unchanged. In the
ECS API those two `Container` fields are strings, so the Rust SDK rejects every RunTask, DescribeTasks
and StopTask answer with `TypeMismatch: expected string`; boto3 is lenient and never noticed. We wrap
`moto.ecs.models.Container.__init__` to store them as strings, then hand the command line to
`moto.server.main`, so this takes exactly `moto_server`'s arguments (`-H HOST -p PORT`).

Task definitions are left alone: `ContainerDefinition.cpu`/`memory` are integers in the API too.

With `RC_MOTO_EXIT_ON_STDIN_EOF=1` the server also exits when its stdin reaches end of file. The test
support code starts it with a pipe on stdin, so moto dies with the test process however that ends,
even when no destructor runs (a shared server, a killed test).
"""

import os
import sys
import threading

from moto.ecs import models as ecs_models
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


def _exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


if __name__ == "__main__":
    if os.environ.get("RC_MOTO_EXIT_ON_STDIN_EOF") == "1":
        threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    main(sys.argv[1:])
