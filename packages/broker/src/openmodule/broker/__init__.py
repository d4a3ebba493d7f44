"""openmodule.broker: the central XSUB/XPUB message broker of openmodule services.

Usage::

    $ openmodule-broker                    # binds BROKER_SUB / BROKER_PUB, stops on SIGTERM/SIGINT
    $ openmodule-broker tap healthz rpc-   # prints live traffic

    from openmodule.broker import BrokerProcess
    with BrokerProcess() as broker:        # a real subprocess on free loopback ports
        print(broker.sub_endpoint, broker.pub_endpoint)
"""

from __future__ import annotations

from openmodule.broker._broker import Broker
from openmodule.broker._process import BrokerProcess, BrokerStartError, start_broker_process

__all__ = ["Broker", "BrokerProcess", "BrokerStartError", "start_broker_process"]
