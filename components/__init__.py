"""What a user can do: one module per tab (layout, event wiring, plain handlers).

Each tab module exposes `TITLE` and `build(ctx)`, called inside a gr.Tab; `build`
lays out the tab and registers its JSON endpoints. No torch here (see DESIGN.md)."""
