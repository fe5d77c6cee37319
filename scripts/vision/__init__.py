"""The label bridge (model_zoo.vision.engine offline): the validation photos (validation_photos),
the sweeps that chose its recipe (tune_label_bridge, tune_second_step, over label_bridge_measures),
the held-out figures (evaluate_vision), and what ships in assets/vision (ship_class_vectors,
ship_imagenet_hierarchy)."""
