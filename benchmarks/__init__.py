"""Scripts that print comparable figures (ratios measured in one run; docs/benchmarks.md):

  models/     each model's path through the app against the bare library call on the same inputs
  quality/    how good the answers are: the candidates a choice was made among, shipped copies
  serving/    the app as a server: cold start, load, soak, replicas, MCP, batching, the manager
  gpu_check/  the GPU proof: every offline model on one device (`python -m benchmarks.gpu_check`)"""
