"""The shipped sentiment heads: the rated sentences they learn from (vader_data), the domain mix
chosen on validation (choose_mix), the training of the English heads (train_default_head) and of
the Chinese model (train_zh_sentiment), and the check that word attributions are faithful
(check_attributions)."""
