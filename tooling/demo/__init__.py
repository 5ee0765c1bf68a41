"""``make demo``: a scripted run of the embedded stack against the doubles (``__main__``), and the
scenarios it plays, which the leak-scan tests replay."""
