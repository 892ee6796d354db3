"""The method protocol (numpy at the interface), the method registry and adapters."""

from .base import PROTOCOLS, TRACK_DATA, TRACKS, Method, NoParams, Task, make_task
from .registry import (METHOD_SETS, METHODS, MethodSpec, installed_methods, main_run_methods, method_set, method_spec,
                       register_method, register_method_set)
from .selection import select
from .sklearn import SklearnMethod, from_sklearn

__all__ = ["Method", "Task", "NoParams", "TRACKS", "PROTOCOLS", "TRACK_DATA", "make_task", "METHODS", "MethodSpec",
           "method_spec", "register_method", "installed_methods", "main_run_methods", "METHOD_SETS", "method_set",
           "register_method_set", "SklearnMethod", "from_sklearn", "select"]
