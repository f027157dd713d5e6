"""Optional HTTP basic authentication of every request (`rest.basic.auth.user.info`)."""

from __future__ import annotations

import base64
import binascii
import hmac

from connector.errors import Problem, UserError
from connector.runtime.worker_config import basic_auth_problem

REALM = 'Basic realm="doge-connect", charset="UTF-8"'
UNAUTHORIZED = "User cannot access the resource."  # Connect's BasicAuthSecurityRestExtension text


class BasicAuth:
    """Checks `Authorization: Basic ...` against one `user:password`."""

    def __init__(self, user_info: str) -> None:
        problem = basic_auth_problem(user_info)
        if problem is not None:
            raise UserError([Problem(problem, path="rest.basic.auth.user.info")])
        self._expected = user_info.encode("utf-8")

    def allows(self, header: str | None) -> bool:
        if header is None:
            return False
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        # Constant time in the content, so a wrong guess tells nothing about the password.
        return hmac.compare_digest(given, self._expected)
