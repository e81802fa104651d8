"""The construction magic of AsyncHTTPClient, kept in one place.

Tornado's contract, which squall keeps:

- ``AsyncHTTPClient()`` builds the *configured* engine (``configure()``
  chooses it by class or dotted name; the default is the simple engine), not
  an ``AsyncHTTPClient`` itself.
- Unless ``force_instance=True``, there is one instance per event loop and
  per class called: a second ``AsyncHTTPClient()`` on the same loop returns
  the first (its constructor arguments are then ignored).

Why ``initialize()`` and not ``__init__``: ``__new__`` may return a cached,
already set-up instance, and Python calls ``__init__`` on whatever
``__new__`` returns. So ``__init__`` does nothing and the real set-up lives in
``initialize()``, which ``__new__`` calls only for a new instance.

The loop an instance belongs to is the running loop, or else the thread's
current loop (so a client can be made in a test's ``setUp`` before the loop
runs). The cache is weak-keyed by loop: a closed, dropped loop frees its client.
"""

from __future__ import annotations

import asyncio
import importlib
import warnings
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar, Final, TypeVar, cast

__all__ = ["DEFAULT_IMPL", "ENGINES", "ConfigurableClient", "current_loop"]

#: The engines squall ships, by the short names the command line and demo use.
ENGINES: Final = {
    "simple": "squall.simple_httpclient.SimpleAsyncHTTPClient",
    "curl": "squall.curl_httpclient.CurlAsyncHTTPClient",
}
DEFAULT_IMPL: Final = ENGINES["simple"]

C = TypeVar("C", bound="ConfigurableClient")


def current_loop() -> asyncio.AbstractEventLoop:
    """The running loop, else the thread's current loop (made if there is none)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            return loop


def _import_class(name: str) -> type:
    module_name, _, class_name = name.rpartition(".")
    if not module_name:
        raise ValueError(f"expected a dotted class name like 'package.module.Class', got {name!r}")
    module = importlib.import_module(module_name)
    try:
        cls: type = getattr(module, class_name)
    except AttributeError:
        raise ValueError(f"module {module_name!r} has no class {class_name!r}") from None
    return cls


class ConfigurableClient:
    """Base with the per-loop instance cache and ``configure()``."""

    _impl: ClassVar[type | None] = None
    _impl_kwargs: ClassVar[dict[str, Any]] = {}
    loop: asyncio.AbstractEventLoop
    _cache: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConfigurableClient] | None

    @classmethod
    def configurable_base(cls) -> type[ConfigurableClient]:
        """The class whose ``configure()`` settings apply (AsyncHTTPClient)."""
        raise NotImplementedError

    @classmethod
    def configure(cls, impl: type | str | None, **kwargs: Any) -> None:
        """Choose the engine that ``AsyncHTTPClient()`` builds, and its arguments.

        Args:
            impl: a subclass of AsyncHTTPClient, its dotted name, or None for
                the default (``SimpleAsyncHTTPClient``).
            **kwargs: constructor arguments for every instance made from now
                on (``max_clients``, ``defaults``, engine options).

        Raises:
            ValueError: ``impl`` is not a subclass of AsyncHTTPClient, is
                AsyncHTTPClient itself (it has no engine), or cannot be found;
                or a constructor argument has a bad value.
            TypeError: a constructor argument has the wrong type or is
                unknown to the engine.
        """
        base = cls.configurable_base()
        if isinstance(impl, str):
            impl = _import_class(impl)
        if impl is not None and not (isinstance(impl, type) and issubclass(impl, base)):
            raise ValueError(f"Invalid subclass of {base.__name__}: {impl!r}")
        if impl is base:
            raise ValueError(
                f"{base.__name__} is the abstract base: configure an engine (a subclass), "
                f"or None for the default ({DEFAULT_IMPL})"
            )
        if kwargs:
            # The constructor's own checks, now: a bad argument is reported by
            # this call, not by the next AsyncHTTPClient() somewhere else.
            target = impl if impl is not None else _import_class(DEFAULT_IMPL)
            cast("type[ConfigurableClient]", target)._check_arguments(kwargs)
        base._impl = impl
        base._impl_kwargs = dict(kwargs)

    @classmethod
    def _check_arguments(cls, kwargs: Mapping[str, Any]) -> None:
        """Check constructor arguments as ``initialize`` would, without an instance.

        Raises TypeError/ValueError naming a bad one; the base knows none.
        """

    @classmethod
    def configured_class(cls) -> type[ConfigurableClient]:
        """The engine class ``AsyncHTTPClient()`` currently builds."""
        base = cls.configurable_base()
        if base._impl is None:
            base._impl = _import_class(DEFAULT_IMPL)
        return base._impl

    @classmethod
    def _instance_cache(
        cls,
    ) -> weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConfigurableClient]:
        # One cache per class called: AsyncHTTPClient() and
        # SimpleAsyncHTTPClient() keep separate instances, as in Tornado.
        attr = "_instances_" + cls.__name__
        cache = cls.__dict__.get(attr)
        if cache is None:
            cache = weakref.WeakKeyDictionary()
            setattr(cls, attr, cache)
        return cache

    def __new__(cls: type[C], force_instance: bool = False, **kwargs: Any) -> C:
        base = cls.configurable_base()
        impl = cls.configured_class() if cls is base else cls
        merged = {**base._impl_kwargs, **kwargs}
        loop = current_loop()
        cache = None if force_instance else cls._instance_cache()
        if cache is not None and loop in cache:
            return cache[loop]  # type: ignore[return-value]
        instance: C = object.__new__(impl)  # type: ignore[assignment]
        instance.loop = loop
        instance._cache = cache
        instance.initialize(**merged)
        if cache is not None:
            cache[loop] = instance
        return instance

    def __init__(self, force_instance: bool = False, **kwargs: Any) -> None:
        # Deliberately empty: see the module docstring.
        pass

    def initialize(self, **kwargs: Any) -> None:
        """Set up a new instance (instead of ``__init__``)."""

    def _forget_instance(self) -> None:
        cache = self._cache
        if cache is None:
            return
        cached = cache.get(self.loop)
        # None: the weak entry went with a collected loop (at interpreter exit,
        # the garbage collector may clear it before __del__ closes us).
        if cached is not None:
            if cached is not self:
                raise RuntimeError("inconsistent AsyncHTTPClient cache")
            del cache[self.loop]
        self._cache = None
