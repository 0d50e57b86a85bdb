"""A gunicorn worker process: one uvloop event loop serving the inference connections of ``connection.py``.

gunicorn's master owns the listening sockets, starts and replaces workers, and kills a worker whose heartbeat stops
for longer than its timeout. Signals, as gunicorn's master sends them: SIGTERM stops gracefully (stop accepting,
finish the requests in flight within the graceful timeout, exit 0); SIGINT and SIGQUIT stop at once.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from typing import Any

import uvloop
from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

from tabular_xgboost.serving.app import InferenceApplication, ModelLoadError
from tabular_xgboost.serving.connection import Connections, InferenceConnection


class ModelServerWorker(Worker):
    def init_signals(self) -> None:
        # The event loop handles the stop signals; the rest keep their defaults so that gunicorn's handlers, which
        # are made for blocking workers, never run inside the loop.
        for signal_number in self.SIGNALS:
            signal.signal(signal_number, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, self.handle_usr1)
        signal.siginterrupt(signal.SIGUSR1, False)

    def run(self) -> None:
        uvloop.run(self._serve())

    async def _serve(self) -> None:
        application: InferenceApplication = self.wsgi
        try:
            application.start()
        except ModelLoadError as error:
            self.log.error("%s", error)
            # gunicorn's master stops the whole server when a worker cannot boot.
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for signal_number, graceful in ((signal.SIGTERM, True), (signal.SIGINT, False), (signal.SIGQUIT, False)):
            loop.add_signal_handler(signal_number, _resolve, stop, graceful)

        connections = Connections()
        keepalive = float(self.cfg.keepalive)

        def connection() -> InferenceConnection:
            return InferenceConnection(application, connections, keepalive)

        servers = [
            await loop.create_server(connection, sock=listener.sock, backlog=self.cfg.backlog)
            for listener in self.sockets
        ]
        self.log.info("Worker %s loaded the model and is serving", os.getpid())
        warmed_up = loop.run_in_executor(None, application.warm_up)
        # The model, the libraries and their caches live as long as the worker: frozen, a full collection no
        # longer walks them during a request.
        warmed_up.add_done_callback(lambda _: gc.freeze())

        graceful = await self._heartbeat(stop)
        for server in servers:
            server.close()
        await connections.drain(self.cfg.graceful_timeout if graceful else 0)

    async def _heartbeat(self, stop: asyncio.Future[Any]) -> bool:
        """Tells the master this worker is alive until a stop signal arrives or the master goes away; returns
        whether the stop is graceful."""
        interval = max(self.timeout / 2, 0.5)
        while not stop.done():
            self.notify()
            if os.getppid() != self.ppid:
                self.log.info("The server's master process is gone; stopping")
                return False
            await asyncio.wait([stop], timeout=interval)
        return bool(stop.result())


def _resolve(stop: asyncio.Future[Any], graceful: bool) -> None:
    if not stop.done():
        stop.set_result(graceful)
