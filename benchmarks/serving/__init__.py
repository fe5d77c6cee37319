"""The app as a server: cold start, load, the soak, replicas behind the balancer, MCP against
gradio_client, micro-batching, the manager's overhead and the headless folder job across
processes (`python -m benchmarks.serving.<name>`); apps.py starts `python app.py` for them."""
