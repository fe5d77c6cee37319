"""Per model: what the app's path costs against the bare library call on the same inputs and the
same loaded model, measured in one run (`python -m benchmarks.models.<name>`); timing.py holds the
turn-taking timer they share."""
