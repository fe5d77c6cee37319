"""Run and ship the app: fetch weights (prefetch), put it on a Space (deploy_space), serve N
replicas behind nginx (serve_replicas), dump its API to compare two versions (api_info), and run
the real-model tests on other CPU configurations (check_configurations)."""
