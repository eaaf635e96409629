"""The stock: items with a quantity and a unit price in cents."""


class Item:
    __slots__ = ("name", "quantity", "cents")

    def __init__(self, name, quantity, cents):
        self.name = name
        self.quantity = quantity
        self.cents = cents


STOCK = (Item("widget", 3, 250), Item("gadget", 1, 1000), Item("gizmo", 4, 75))
