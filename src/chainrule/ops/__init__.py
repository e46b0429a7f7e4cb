"""Every derivative rule in chainrule lives here, one ``Function`` per primitive."""
