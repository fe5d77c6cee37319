"""What a user can do: one module per tab, or a package once the tab has parts (layout,
event wiring, plain handlers).

Each tab (the modules app/blocks.py lists in TABS: speech/, sentiment, training, search,
captioning, imagine, system) exposes `TITLE` and `build(ctx)`, called inside a gr.Tab;
`build` lays out the tab and wires its events and JSON endpoints to module-level handlers:
plain functions of (ctx, inputs, owner), callable without a server, bound to the context with
common.bind; visitor.for_caller supplies the owner (or page) from the request, the one way a
handler learns who is asking. No function here runs over 80 lines. Tabs never import each other:
what two share lives below them, in modules that are not tabs: `context` (what every tab
gets), `visitor` (who is asking) and the `common` package (errors into messages, uploaded
files; `common.galleries`: the galleries an owner sees; `common.heads`: the sentiment
service and an owner's heads), or in model_zoo when it is not UI. No torch here (see docs/design.md);
tests/test_import_layers.py checks these rules and the 80 lines."""
