"""Real-time server: stream speech over a WebSocket, get face frames back (``talkinghead serve``).

:mod:`talkinghead.serve.app` holds the FastAPI application (:func:`create_app`,
:class:`ServeConfig`); :mod:`talkinghead.cli.serve` the command-line entry. FastAPI
and uvicorn are imported only there (``pip install talkinghead[serve]``).
"""
