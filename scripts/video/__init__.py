"""The example video the Video tab opens with (make_example_video -> assets/video/example.mp4)."""
