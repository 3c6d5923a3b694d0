"""The survey says which read failed once crossdept is logged in, instead of a bare error."""

from __future__ import annotations

from typing import Any

import pytest

from plugin.doctor.needs import SiteNeeds
from plugin.doctor.survey import SiteUnreadable, survey
from plugin.spine.errors import RefusedError


class RefusingAdmin:
    """Logs in, then Jira refuses the first project read."""

    is_cloud = True

    class jira:  # noqa: N801 - stands in for the gateway attribute
        server_info: dict[str, Any] = {"version": "1001.0.0"}

    def myself(self) -> dict[str, str]:
        return {"accountId": "crossdept-id", "displayName": "crossdept"}

    def project(self, key: str, permissions: Any) -> Any:
        raise RefusedError("GET /rest/api/2/project/{key}: HTTP 403", 403, ["Forbidden"])


def test_a_read_refused_after_the_login_names_what_was_being_read(needs: SiteNeeds) -> None:
    with pytest.raises(SiteUnreadable) as raised:
        survey(needs, RefusingAdmin(), people=None, confluence=None, address="https://x")  # type: ignore[arg-type]
    assert raised.value.what == "reading the site's configuration"
    assert "Forbidden" in str(raised.value)
