"""The method protocol (numpy at the interface), the method registry and adapters."""

from .base import PROTOCOLS, TRACK_DATA, TRACKS, Method, NoParams, Task, make_task
from .registry import METHODS, MethodSpec, method_spec, register_method
from .selection import select
from .sklearn import SklearnMethod, from_sklearn

__all__ = ["Method", "Task", "NoParams", "TRACKS", "PROTOCOLS", "TRACK_DATA", "make_task", "METHODS", "MethodSpec",
           "method_spec", "register_method", "SklearnMethod", "from_sklearn", "select"]
