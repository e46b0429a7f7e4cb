"""Every derivative rule in chainrule lives here, one ``Primitive`` per primitive."""
