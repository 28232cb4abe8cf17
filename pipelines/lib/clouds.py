"""Microsoft's national clouds: where Graph, the token authority, Log Analytics and Azure Resource Manager answer.

A tenant lives in one cloud (``cloud:`` in the configuration); its endpoints default to that cloud's, and any one
of them can still be set on its own (the emulator, a proxy). Tokens are always asked for the cloud's own resource
(``scope``), whatever URL the request then goes to: an emulator answering at another address still expects a
Graph token. Values from Microsoft's national-cloud deployment documentation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cloud:
    name: str
    graph_url: str
    authority_url: str
    log_analytics_url: str
    management_url: str

    @staticmethod
    def scope(resource_url: str) -> str:
        """The ``.default`` scope of a resource: every permission granted to the app on it."""
        return f"{resource_url.rstrip('/')}/.default"


CLOUDS = {
    cloud.name: cloud
    for cloud in (
        Cloud(
            name="public",
            graph_url="https://graph.microsoft.com",
            authority_url="https://login.microsoftonline.com",
            log_analytics_url="https://api.loganalytics.io",
            management_url="https://management.azure.com",
        ),
        # Microsoft Graph for US Government L4 (GCC High); Azure Government's sign-in, Log Analytics and ARM.
        Cloud(
            name="usgov",
            graph_url="https://graph.microsoft.us",
            authority_url="https://login.microsoftonline.us",
            log_analytics_url="https://api.loganalytics.us",
            management_url="https://management.usgovcloudapi.net",
        ),
        # Microsoft Azure operated by 21Vianet.
        Cloud(
            name="china",
            graph_url="https://microsoftgraph.chinacloudapi.cn",
            authority_url="https://login.chinacloudapi.cn",
            log_analytics_url="https://api.loganalytics.azure.cn",
            management_url="https://management.chinacloudapi.cn",
        ),
    )
}
PUBLIC = CLOUDS["public"]
