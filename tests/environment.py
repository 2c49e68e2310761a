"""What tests give a ``deskboard`` command or process: the simulator's ConnectWise settings, a
free port."""

from __future__ import annotations

import socket

from psa.connectwise.simulator import SimulatorServer


def connectwise_environment(simulator: SimulatorServer) -> dict[str, str]:
    """The ``CW_*`` variables that point Deskboard at ``simulator``."""
    return {
        "CW_API_URL": simulator.url,
        "CW_COMPANY": simulator.company,
        "CW_PUBLIC_KEY": simulator.public_key,
        "CW_PRIVATE_KEY": simulator.private_key,
        "CW_CLIENT_ID": simulator.client_id,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
