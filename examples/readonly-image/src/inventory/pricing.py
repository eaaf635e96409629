"""Prices: line totals and the total with VAT, in cents."""

from .models import STOCK

VAT_PERCENT = 20


def line_total(item):
    return item.quantity * item.cents


def total(items=STOCK):
    return sum(line_total(item) for item in items)


def with_vat(cents):
    return cents * (100 + VAT_PERCENT) // 100
