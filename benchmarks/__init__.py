"""Side-by-side speed comparisons (chainrule vs PyTorch and plain NumPy); see README.md."""
