"""Command-line jobs, one folder per role (docs/design.md, "The house"):

  jobs/       a tab's work over a whole folder, headless, on one process or many
  ops/        run and ship the app: prefetch, deploy, replicas, the API dump, other CPU configurations
  sentiment/  the shipped sentiment heads: data, training, the mix chosen, attributions checked
  vision/     the label bridge: validation photos, sweeps, evaluation, the vectors and hierarchy it ships
  video/      the example video (assets/video/example.mp4)

Each runs as `python -m scripts.<role>.<name>` from the repository root."""
