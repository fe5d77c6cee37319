"""Sentiment: `service.SentimentService` (an app's, shared by its visitors: `head_scope.scoped_service`) reads
the sentiment of text (with an image or a voice clip beside it) through a fusion head.
Around it: what a request holds (`inputs`), what it returns (`results`), the store of
shipped and trained heads (`heads`, and `head_scope` for the visitor's own), training a
head from a dataset (`training`) and word attributions by occlusion (`attributions`)."""
