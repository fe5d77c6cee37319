"""What a visitor reads, one table per language: `en` (the default, and the authority on which
keys exist) and `zh` (Simplified Chinese). Each module holds one dict, STRINGS, key -> text;
{name} marks a field a handler fills in (components.common.i18n.t). A key whose text holds a
link to "#<tab>-how" opens that tab's "How it works" accordion. tests/test_i18n.py checks
that both tables hold the same keys with the same fields, and that every key the code names
is here."""
