"""Exceptions raised by ``RPCClient``; exposed as nested names (``RPCClient.TimeoutError`` ...)."""

from __future__ import annotations

import builtins

import pydantic
import pydantic_core


class RPCClientException(builtins.Exception):
    """Base of every error an RPC call raises (``RPCClient.Exception``)."""


class CancelError(RPCClientException):
    """The call was cancelled with ``RPCEntry.cancel()`` before a response arrived."""


class RPCTimeoutError(RPCClientException, builtins.TimeoutError):
    """No response arrived within the call's timeout (also a built-in ``TimeoutError``)."""


class ServerHandlerError(RPCClientException):
    """The server's handler raised, or its return value did not fit the response class."""


class ServerValidationError(RPCClientException):
    """The server could not validate the request envelope or payload."""


class ServerFilterError(RPCClientException):
    """A filter of the server raised while checking the request."""


class RPCServerError(RPCClientException):
    """The cloud-side RPC server answered with status ``error``."""


class ServerUnknownError(RPCClientException):
    """The server answered with a status this client does not know."""


class RPCValidationError(RPCClientException, pydantic.ValidationError):
    """The response could not be parsed into the requested type (also a ``pydantic.ValidationError``)."""

    @classmethod
    def wrap(cls, exc: pydantic.ValidationError) -> RPCValidationError:
        """The same errors as ``exc``, as an ``RPCClient.ValidationError``."""
        try:
            return cls.from_exception_data(exc.title, exc.errors(include_url=False))  # type: ignore[arg-type]
        except Exception:
            # Some error types need a context object that errors() no longer carries; keep the text.
            detail = pydantic_core.InitErrorDetails(
                type=pydantic_core.PydanticCustomError("rpc_response", "{text}", {"text": str(exc)}),
                loc=(),
                input=None,
            )
            return cls.from_exception_data(exc.title, [detail])
