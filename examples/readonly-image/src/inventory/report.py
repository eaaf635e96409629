"""The stock report the application prints."""

from . import __version__, pricing
from .models import STOCK


def euros(cents):
    return "%d.%02d" % divmod(cents, 100)


def lines():
    yield "inventory %s" % __version__
    for item in STOCK:
        yield "  %d x %-6s at %5s = %5s" % (item.quantity, item.name, euros(item.cents),
                                          euros(pricing.line_total(item)))
    total = pricing.total()
    yield "total %s (with %d%% VAT: %s)" % (euros(total), pricing.VAT_PERCENT,
                                           euros(pricing.with_vat(total)))
